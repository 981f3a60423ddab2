/* 驾驶舱 charts: each [data-chart] element names the json_script element holding its data
   ({title, labels, values, links}); the same numbers are in the table that follows the chart.
   A click on a bar opens the rows behind it. No inline script: the page's CSP forbids it. */
(function () {
  "use strict";

  function readData(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  function draw(element) {
    var data = readData(element.getAttribute("data-chart"));
    if (!data || !window.echarts) {
      return;
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 16, bottom: 64, containLabel: true },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: { type: "category", data: data.labels, axisLabel: { rotate: data.labels.length > 8 ? 45 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.title, type: "bar", data: data.values, itemStyle: { color: "#206bc4" } }]
    });
    chart.on("click", function (params) {
      var link = data.links[params.dataIndex];
      if (link) {
        window.location.href = link;
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
