/* 经验采纳成效 chart: the [data-practice-chart] element names the json_script element holding its data
   ({title, unit, labels, n, series: [{name, values}]}): the quarters before the trial, then those after,
   one series per side; a quarter with n = 0 has no bar. The same numbers are in the tables above.
   No inline script: the page's CSP forbids it. */
(function () {
  "use strict";

  var COLORS = ["#868e96", "#206bc4"];

  function readData(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  function option(data) {
    var unit = data.unit === "%" ? "%" : "";
    return {
      animation: false,
      color: COLORS,
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 48, containLabel: true },
      tooltip: {
        trigger: "axis",
        renderMode: "richText",
        formatter: function (items) {
          var lines = [];
          items.forEach(function (item) {
            if (item.value !== null && item.value !== undefined) {
              lines.push(item.seriesName + " " + item.name + "：" + item.value + unit + "（n = " + data.n[item.dataIndex] + "）");
            }
          });
          return lines.length ? lines.join("\n") : data.labels[items[0].dataIndex] + "：—（n = 0）";
        }
      },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", name: data.unit },
      series: data.series.map(function (serie) {
        return { name: serie.name, type: "bar", stack: "side", data: serie.values };
      })
    };
  }

  function draw(element) {
    var data = readData(element.getAttribute("data-practice-chart"));
    if (!data || !window.echarts) {
      return;
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option(data));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-practice-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
