// trailpost console: small progressive enhancements. Data is only ever set as text
// (textContent, setAttribute), never parsed as HTML.
"use strict";

(function () {
  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function setupExpanders() {
    document.querySelectorAll("button.expand").forEach(function (button) {
      button.addEventListener("click", function () {
        var row = document.getElementById(button.getAttribute("aria-controls"));
        if (!row) return;
        var open = button.getAttribute("aria-expanded") === "true";
        button.setAttribute("aria-expanded", open ? "false" : "true");
        button.textContent = open ? "\u25B8" : "\u25BE";
        row.hidden = open;
      });
    });
  }

  function setupAutoSubmit() {
    document.querySelectorAll("select.auto-submit").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function setupRange() {
    var range = document.getElementById("range");
    if (!range) return;
    var update = function () {
      document.querySelectorAll(".absolute-field").forEach(function (field) {
        field.hidden = range.value !== "absolute";
      });
    };
    range.addEventListener("change", update);
    update();
  }

  var SVG = "http://www.w3.org/2000/svg";

  function svgElement(name, attrs) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, String(attrs[key])); });
    return el;
  }

  function drawChart(figure, data) {
    var svg = document.getElementById("chart-svg");
    var note = document.getElementById("chart-note");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var buckets = data.buckets || [];
    var width = 720, height = 140, top = 6, bottom = 1;
    var max = 0;
    buckets.forEach(function (b) { if (b.count > max) max = b.count; });
    var slot = width / Math.max(buckets.length, 1);
    svg.appendChild(svgElement("line", { x1: 0, y1: height - bottom, x2: width, y2: height - bottom, class: "chart-base" }));
    buckets.forEach(function (b, i) {
      var h = max ? Math.max((height - top - bottom) * b.count / max, b.count ? 2 : 0) : 0;
      var bar = svgElement("rect", {
        x: (i * slot + 2).toFixed(1), y: (height - bottom - h).toFixed(1),
        width: Math.max(slot - 4, 1).toFixed(1), height: h.toFixed(1), class: "chart-bar",
        "data-count": b.count
      });
      var title = document.createElementNS(SVG, "title");
      title.textContent = b.label + ": " + b.count + (b.count === 1 ? " event" : " events");
      bar.appendChild(title);
      svg.appendChild(bar);
    });
    document.getElementById("chart-max").textContent = max ? "highest bar: " + max : "";
    document.getElementById("chart-start").textContent = data.start || "";
    document.getElementById("chart-end").textContent = data.end || "";
    var text = data.total + (data.total === 1 ? " event" : " events");
    if (data.capped) text = "the newest " + data.limit + " events (more exist; narrow the range)";
    note.textContent = "\u2014 " + text;
    figure.setAttribute("data-ready", "true");
  }

  function setupChart() {
    var figure = document.getElementById("chart");
    if (!figure) return;
    fetch(figure.getAttribute("data-src"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.error) {
          document.getElementById("chart-note").textContent = "\u2014 " + data.error;
          figure.setAttribute("data-ready", "error");
        } else {
          drawChart(figure, data);
        }
      })
      .catch(function () {
        document.getElementById("chart-note").textContent = "\u2014 the chart could not be loaded";
        figure.setAttribute("data-ready", "error");
      });
  }

  onReady(function () {
    setupExpanders();
    setupAutoSubmit();
    setupRange();
    setupChart();
  });
})();
