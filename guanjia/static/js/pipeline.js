/* 招商漏斗与投资统计 charts: each [data-pipeline-chart] element names the json_script element holding
   its data — a funnel ({kind: "funnel", title, labels, values}) or grouped bars ({kind: "bars",
   title, unit, labels, series: [{name, values}]}). The same numbers are in the table beside each
   chart. No inline script: the page's CSP forbids it. */
(function () {
  "use strict";

  var COLORS = ["#206bc4", "#2fb344", "#f59f00", "#d63939", "#ae3ec9", "#0ca678", "#4263eb", "#f76707"];

  function readData(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  function funnelOption(data) {
    var items = data.labels.map(function (label, index) {
      return { name: label, value: data.values[index] };
    });
    var max = Math.max.apply(null, data.values.concat([1]));
    return {
      animation: false,
      color: COLORS,
      tooltip: { trigger: "item", renderMode: "richText", formatter: "{b}：{c}" },
      series: [{
        name: data.title,
        type: "funnel",
        sort: "none",
        min: 0,
        max: max,
        minSize: "8%",
        gap: 2,
        left: "10%",
        width: "80%",
        label: { show: true, position: "inside", formatter: "{b} {c}", color: "#fff" },
        data: items
      }]
    };
  }

  function barsOption(data) {
    return {
      animation: false,
      color: COLORS,
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 48, containLabel: true },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", name: data.unit },
      series: data.series.map(function (serie) {
        return { name: serie.name, type: "bar", data: serie.values };
      })
    };
  }

  function draw(element) {
    var data = readData(element.getAttribute("data-pipeline-chart"));
    if (!data || !window.echarts) {
      return;
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(data.kind === "funnel" ? funnelOption(data) : barsOption(data));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-pipeline-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
