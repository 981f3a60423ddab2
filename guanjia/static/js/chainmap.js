/* 产业链图谱: draws the chain tree (chain → 上游/中游/下游 → nodes) into each [data-chain-map] element,
   from the json_script element it names. Nodes are coloured by strength; the same figures are in the
   table beside the map. A click on a node opens the node's page. No inline script: the CSP forbids it. */
(function () {
  "use strict";

  // Tabler's green, orange and red; the legend above the map uses the same hues.
  var COLOURS = { strong: "#2fb344", weak: "#f76707", missing: "#d63939" };
  var GROUP_COLOUR = "#626976";

  function readData(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  function decorate(item) {
    if (item.strength) {
      item.itemStyle = { color: COLOURS[item.strength], borderColor: COLOURS[item.strength] };
    } else {
      item.itemStyle = { color: GROUP_COLOUR, borderColor: GROUP_COLOUR };
    }
    (item.children || []).forEach(decorate);
    return item;
  }

  function countLeaves(item) {
    var children = item.children || [];
    if (!children.length) {
      return 1;
    }
    return children.reduce(function (sum, child) { return sum + countLeaves(child); }, 0);
  }

  function tooltip(params) {
    var data = params.data || {};
    return data.tip || data.name;  // the tip is written (and translated) by the page
  }

  function draw(element) {
    var data = readData(element.getAttribute("data-chain-map"));
    if (!data || !window.echarts) {
      return;
    }
    decorate(data);
    // Height by the number of leaves, so that labels do not overlap (CSSOM, not a style attribute).
    element.style.height = Math.max(360, countLeaves(data) * 32) + "px";
    element.style.width = "100%";
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      // richText: the tooltip is drawn, not parsed as HTML, so a node's name cannot inject markup.
      tooltip: { trigger: "item", renderMode: "richText", formatter: tooltip },
      series: [{
        type: "tree",
        orient: "LR",
        data: [data],
        top: 16,
        bottom: 16,
        left: 72,
        right: 120,
        symbolSize: 12,
        initialTreeDepth: -1,
        expandAndCollapse: false,
        roam: false,
        label: { position: "left", verticalAlign: "middle", align: "right", fontSize: 13 },
        leaves: { label: { position: "right", verticalAlign: "middle", align: "left" } },
        lineStyle: { color: "#adb5bd" }
      }]
    });
    chart.on("click", function (params) {
      if (params.data && params.data.url) {
        window.location.href = params.data.url;
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chain-map]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
