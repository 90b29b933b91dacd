// mltrail's charts: metric histories with uPlot (vendored), plots, parallel
// coordinates and scatters as small SVGs drawn here. Every chart is drawn from the
// page's JSON (or /history, for histories); every series differs by colour AND by
// dash or marker, and the page holds the numbers in a table next to each chart.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var DASHES = [[], [6, 3], [2, 2], [8, 2, 2, 2], [], [10, 4], [3, 4], [], [6, 3], [2, 2]];
  var WIDTHS = [2, 2, 2, 2, 3.5, 2, 2, 2, 2, 2];
  var MARKERS = ["circle", "square", "triangle", "diamond"];
  var app = window.mltrail;
  var PAGE = app ? app.page : {};

  // The colour a custom property holds now: resolving it on an element turns
  // light-dark() into the theme's colour, as "rgb(r, g, b)".
  var probe = null;
  function css(name) {
    if (!probe) {
      probe = document.createElement("span");
      probe.hidden = true;
      document.body.appendChild(probe);
    }
    probe.style.color = "var(" + name + ")";
    return getComputedStyle(probe).color;
  }

  function palette() {
    var colors = [];
    for (var i = 0; i < 10; i++) colors.push(css("--series-" + i));
    return { series: colors, fg: css("--fg"), soft: css("--fg-soft"), line: css("--line"), bg: css("--bg") };
  }

  function alpha(color, opacity) {
    // "rgb(r, g, b)" -> "rgba(r, g, b, opacity)"; other forms are returned as they are.
    var match = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color);
    return match ? "rgba(" + match[1] + "," + match[2] + "," + match[3] + "," + opacity + ")" : color;
  }

  // JSON carries NaN and infinities as strings; a chart cannot draw them.
  function finite(value) {
    return typeof value === "number" && isFinite(value) ? value : null;
  }

  function formatNumber(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "string") return value;
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString("en-US");
    return Number(value.toPrecision(6)).toString();
  }

  function niceTicks(low, high, count) {
    if (!(high > low)) { high = low + 1; low = low - 1; }
    var step = Math.pow(10, Math.floor(Math.log10((high - low) / count)));
    var err = (count * step) / (high - low);
    if (err <= 0.15) step *= 10; else if (err <= 0.35) step *= 5; else if (err <= 0.75) step *= 2;
    var ticks = [];
    for (var t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
    return ticks;
  }

  function svgNode(tag, attributes, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // --- metric histories (uPlot) --------------------------------------------------

  function smooth(values, weight) {
    if (!weight) return values;
    var last = 0, debias = 0, out = [];
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (v === null) { out.push(null); continue; }
      last = last * weight + (1 - weight) * v;
      debias = debias * weight + (1 - weight);
      out.push(last / debias);
    }
    return out;
  }

  function historyControls(form) {
    var x = form ? (form.querySelector("input[name=x]:checked") || {}).value || "step" : "step";
    var smoothing = form ? Number((form.querySelector("input[name=smoothing]") || {}).value || 0) : 0;
    var log = form ? !!(form.querySelector("input[name=log]") || {}).checked : false;
    return { x: x, smoothing: smoothing, log: log };
  }

  // One chart of one metric for several runs. runs: [{run_id, label, start_time}].
  function HistoryChart(figure, runs, key, controls) {
    this.figure = figure;
    this.plot = figure.querySelector(".plot");
    this.status = figure.querySelector(".chart-status");
    this.runs = runs;
    this.key = key;
    this.controls = controls;
    this.range = null;
    this.response = null;
    this.chart = null;
  }

  HistoryChart.prototype.points = function () {
    return Math.max(200, Math.min(4000, Math.round((this.plot.clientWidth || 600) * 1.5)));
  };

  // The URL the page preloaded for this chart's first view (run page, steps), if any.
  HistoryChart.prototype.preloaded = function (state) {
    if (this.range || state.x !== "step" || this.runs.length !== 1 || this.usedPreload) return null;
    var links = document.querySelectorAll("link[rel=preload][data-history-key]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("data-history-key") === this.key) {
        this.usedPreload = true;
        return links[i].href;
      }
    }
    return null;
  };

  HistoryChart.prototype.load = function () {
    var self = this;
    var state = historyControls(this.controls);
    var url = this.preloaded(state);
    if (!url) {
      var query = new URLSearchParams();
      query.set("run_ids", this.runs.map(function (run) { return run.run_id; }).join(","));
      query.set("key", this.key);
      query.set("x", state.x === "step" ? "step" : "timestamp");
      query.set("points", String(this.points()));
      if (this.range) {
        query.set("start", String(Math.floor(this.range[0])));
        query.set("end", String(Math.ceil(this.range[1])));
      }
      url = "/history?" + query.toString();
    }
    if (this.status) this.status.textContent = "Loading…";
    var started = performance.now();
    // The same mode and credentials as the preload, so that the browser reuses it.
    return fetch(url, { credentials: "same-origin", mode: "cors" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        self.figure.setAttribute("data-fetched-ms", String(Math.round(performance.now() - started)));
        self.response = data;
        self.draw();
        self.figure.setAttribute("data-drawn-ms", String(Math.round(performance.now() - started)));
      })
      .catch(function (error) { if (self.status) self.status.textContent = "Could not load the history: " + error.message; });
  };

  HistoryChart.prototype.toX = function (values, run, state) {
    if (state.x === "time") return values.map(function (v) { return v / 1000; });
    if (state.x === "relative") return values.map(function (v) { return (v - run.start_time) / 1000; });
    return values;
  };

  HistoryChart.prototype.draw = function () {
    var self = this;
    var data = this.response;
    if (!data) return;
    var state = historyControls(this.controls);
    var colors = palette();
    var tables = [];
    var series = [{ label: state.x === "step" ? "step" : (state.x === "time" ? "time" : "seconds") }];
    var bands = [];
    var totals = 0, drawn = 0, sampled = false;
    data.runs.forEach(function (result, index) {
      var run = self.runs[index] || { label: result.run_id, start_time: 0 };
      var color = colors.series[index % 10];
      var xs = self.toX(result.x, run, state);
      var clean = function (v) {
        v = finite(v);
        return state.log && v !== null && v <= 0 ? null : v;
      };
      var ys = smooth(result.value.map(clean), state.smoothing);
      totals += result.total;
      drawn += result.x.length;
      var table = [xs, ys];
      series.push({
        label: run.label + (result.is_sampled ? " (mean)" : ""),
        stroke: color,
        width: WIDTHS[index % 10],
        dash: DASHES[index % 10],
        spanGaps: true,
        points: { show: result.x.length < 60 }
      });
      if (result.is_sampled) {
        sampled = true;
        table.push(result.max.map(clean), result.min.map(clean));
        series.push({ label: run.label + " max", stroke: alpha(color, 0.35), width: 1, spanGaps: true, points: { show: false } });
        series.push({ label: run.label + " min", stroke: alpha(color, 0.35), width: 1, spanGaps: true, points: { show: false } });
        var at = series.length - 2;
        bands.push({ series: [at, at + 1], fill: alpha(color, 0.18) });
      }
      tables.push(table);
    });
    var aligned = tables.length === 1 ? tables[0] : window.uPlot.join(tables);
    var width = this.plot.clientWidth || 600;
    var options = {
      width: width,
      height: 280,
      series: series,
      bands: bands,
      scales: { x: { time: state.x === "time" }, y: { distr: state.log ? 3 : 1 } },
      axes: [
        { stroke: colors.soft, grid: { stroke: colors.line, width: 1 }, ticks: { stroke: colors.line } },
        { stroke: colors.soft, grid: { stroke: colors.line, width: 1 }, ticks: { stroke: colors.line }, size: 60 }
      ],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      hooks: {
        setSelect: [function (chart) {
          if (chart.select.width < 4) return;
          var low = chart.posToVal(chart.select.left, "x");
          var high = chart.posToVal(chart.select.left + chart.select.width, "x");
          chart.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          self.zoom(low, high, state);
        }]
      }
    };
    if (this.chart) this.chart.destroy();
    clear(this.plot);
    this.chart = new window.uPlot(options, aligned, this.plot);
    this.plot.setAttribute("data-series", String(data.runs.length));
    this.plot.setAttribute("data-points", String(drawn));
    if (this.status) {
      this.status.textContent = sampled
        ? formatNumber(totals) + " points drawn as " + formatNumber(drawn) + " ranges: the line is each range's mean, the band its minimum and maximum."
        : formatNumber(totals) + " points.";
      if (this.range) this.status.textContent += " Zoomed in: double-click to zoom out.";
    }
    this.summary(data);
  };

  // The numbers behind the chart, for screen readers and for copying.
  HistoryChart.prototype.summary = function (data) {
    var old = this.figure.querySelector("details.chart-data");
    if (old) old.remove();
    var details = app.element("details", { "class": "chart-data" });
    details.appendChild(app.element("summary", {}, "Data table"));
    var table = app.element("table", { "class": "data compact" });
    table.appendChild(app.element("caption", {}, this.key + ": per run, over the range shown"));
    var head = app.element("tr");
    ["Run", "Points", "Minimum", "Maximum", "Last"].forEach(function (label) { head.appendChild(app.element("th", { scope: "col" }, label)); });
    var thead = app.element("thead"); thead.appendChild(head); table.appendChild(thead);
    var body = app.element("tbody");
    var self = this;
    data.runs.forEach(function (result, index) {
      var run = self.runs[index] || { label: result.run_id };
      var lows = result.min.map(finite).filter(function (v) { return v !== null; });
      var highs = result.max.map(finite).filter(function (v) { return v !== null; });
      var row = app.element("tr");
      row.appendChild(app.element("th", { scope: "row" }, run.label));
      row.appendChild(app.element("td", { "class": "num" }, formatNumber(result.total)));
      row.appendChild(app.element("td", { "class": "num" }, lows.length ? formatNumber(Math.min.apply(null, lows)) : "–"));
      row.appendChild(app.element("td", { "class": "num" }, highs.length ? formatNumber(Math.max.apply(null, highs)) : "–"));
      row.appendChild(app.element("td", { "class": "num" }, formatNumber(result.value.length ? result.value[result.value.length - 1] : null)));
      body.appendChild(row);
    });
    table.appendChild(body);
    details.appendChild(table);
    this.figure.appendChild(details);
  };

  HistoryChart.prototype.zoom = function (low, high, state) {
    if (state.x === "relative") {
      if (this.runs.length !== 1) { this.chart.setScale("x", { min: low, max: high }); return; }
      var start = this.runs[0].start_time;
      this.range = [low * 1000 + start, high * 1000 + start];
    } else if (state.x === "time") {
      this.range = [low * 1000, high * 1000];
    } else {
      this.range = [low, high];
    }
    this.load();
  };

  HistoryChart.prototype.reset = function () {
    this.range = null;
    this.load();
  };

  function watchControls(form, charts) {
    if (!form) return;
    var output = form.querySelector("output");
    form.addEventListener("input", function (event) {
      if (output && event.target.name === "smoothing") output.textContent = event.target.value;
      charts().forEach(function (chart) {
        if (event.target.name === "x") { chart.range = null; chart.load(); } else { chart.draw(); }
      });
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
  }

  function setUpMetricCharts() {
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure.metric-chart"));
    if (!figures.length || !PAGE.run) return;
    var form = document.getElementById("chart-controls");
    var run = { run_id: PAGE.run.run_id, label: PAGE.run.run_name, start_time: PAGE.run.start_time };
    var charts = figures.map(function (figure) {
      var chart = new HistoryChart(figure, [run], figure.getAttribute("data-key"), form);
      figure.addEventListener("dblclick", function () { chart.reset(); });
      return chart;
    });
    var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        charts[figures.indexOf(entry.target)].load();
      });
    }, { rootMargin: "200px" }) : null;
    var preloaded = {};
    document.querySelectorAll("link[rel=preload][data-history-key]").forEach(function (link) {
      preloaded[link.getAttribute("data-history-key")] = true;
    });
    figures.forEach(function (figure, index) {
      // Charts whose data the page preloaded draw at once; the others when seen.
      if (observer && !preloaded[charts[index].key]) observer.observe(figure);
      else charts[index].load();
    });
    watchControls(form, function () { return charts.filter(function (chart) { return chart.response; }); });
    document.addEventListener("mltrail:theme", function () { charts.forEach(function (chart) { chart.draw(); }); });
  }

  // --- SVG charts ----------------------------------------------------------------

  function extent(values) {
    var clean = values.filter(function (v) { return v !== null; });
    if (!clean.length) return [0, 1];
    var low = Math.min.apply(null, clean), high = Math.max.apply(null, clean);
    if (low === high) { low -= 0.5; high += 0.5; }
    return [low, high];
  }

  function marker(kind, x, y, color) {
    var size = 3.2;
    if (kind === "square") return svgNode("rect", { x: x - size, y: y - size, width: 2 * size, height: 2 * size, fill: color });
    if (kind === "triangle") return svgNode("path", { d: "M" + x + "," + (y - size - 1) + "L" + (x + size + 1) + "," + (y + size) + "L" + (x - size - 1) + "," + (y + size) + "Z", fill: color });
    if (kind === "diamond") return svgNode("path", { d: "M" + x + "," + (y - size - 1) + "L" + (x + size + 1) + "," + y + "L" + x + "," + (y + size + 1) + "L" + (x - size - 1) + "," + y + "Z", fill: color });
    return svgNode("circle", { cx: x, cy: y, r: size, fill: color });
  }

  // series: [{label, x: [], y: [], mode: "line"|"points"}]; options: xTitle, yTitle,
  // reference: "diagonal" | "zero", unit: [0, 1] domains for both axes.
  function xyChart(container, series, options) {
    var colors = palette();
    var width = 520, height = 330, left = 56, right = 14, top = 12, bottom = 44;
    var xs = [], ys = [];
    series.forEach(function (s) { xs = xs.concat(s.x.map(finite)); ys = ys.concat(s.y.map(finite)); });
    var xDomain = options.unit ? [0, 1] : extent(xs);
    var yDomain = options.unit ? [0, 1] : extent(ys);
    if (options.reference === "diagonal" && !options.unit) {
      var low = Math.min(xDomain[0], yDomain[0]), high = Math.max(xDomain[1], yDomain[1]);
      xDomain = [low, high]; yDomain = [low, high];
    }
    var sx = function (v) { return left + ((v - xDomain[0]) / (xDomain[1] - xDomain[0])) * (width - left - right); };
    var sy = function (v) { return height - bottom - ((v - yDomain[0]) / (yDomain[1] - yDomain[0])) * (height - top - bottom); };
    var svg = svgNode("svg", { viewBox: "0 0 " + width + " " + height, "class": "xy", "aria-hidden": "true" });
    niceTicks(xDomain[0], xDomain[1], 6).forEach(function (t) {
      svg.appendChild(svgNode("line", { x1: sx(t), x2: sx(t), y1: top, y2: height - bottom, stroke: colors.line }));
      svg.appendChild(svgNode("text", { x: sx(t), y: height - bottom + 14, "text-anchor": "middle", fill: colors.soft, "font-size": 11 }, formatNumber(t)));
    });
    niceTicks(yDomain[0], yDomain[1], 5).forEach(function (t) {
      svg.appendChild(svgNode("line", { x1: left, x2: width - right, y1: sy(t), y2: sy(t), stroke: colors.line }));
      svg.appendChild(svgNode("text", { x: left - 6, y: sy(t) + 4, "text-anchor": "end", fill: colors.soft, "font-size": 11 }, formatNumber(t)));
    });
    svg.appendChild(svgNode("text", { x: (left + width - right) / 2, y: height - 8, "text-anchor": "middle", fill: colors.fg, "font-size": 12 }, options.xTitle || ""));
    svg.appendChild(svgNode("text", { x: 14, y: (top + height - bottom) / 2, "text-anchor": "middle", fill: colors.fg, "font-size": 12, transform: "rotate(-90 14 " + ((top + height - bottom) / 2) + ")" }, options.yTitle || ""));
    if (options.reference === "diagonal") {
      svg.appendChild(svgNode("line", { x1: sx(xDomain[0]), y1: sy(xDomain[0]), x2: sx(xDomain[1]), y2: sy(xDomain[1]), stroke: colors.soft, "stroke-dasharray": "4 4" }));
    } else if (options.reference === "zero" && yDomain[0] < 0 && yDomain[1] > 0) {
      svg.appendChild(svgNode("line", { x1: left, x2: width - right, y1: sy(0), y2: sy(0), stroke: colors.soft, "stroke-dasharray": "4 4" }));
    }
    series.forEach(function (s, index) {
      var color = colors.series[index % 10];
      if (s.mode === "points") {
        var group = svgNode("g", {});
        for (var i = 0; i < s.x.length; i++) {
          var x = finite(s.x[i]), y = finite(s.y[i]);
          if (x === null || y === null) continue;
          var point = marker(MARKERS[index % 4], sx(x), sy(y), alpha(color, 0.75));
          if (s.titles) point.appendChild(svgNode("title", {}, s.titles[i]));
          group.appendChild(point);
        }
        svg.appendChild(group);
        return;
      }
      var d = "", pen = false;
      for (var j = 0; j < s.x.length; j++) {
        var px = finite(s.x[j]), py = finite(s.y[j]);
        if (px === null || py === null) { pen = false; continue; }
        d += (pen ? "L" : "M") + sx(px).toFixed(2) + "," + sy(py).toFixed(2);
        pen = true;
      }
      svg.appendChild(svgNode("path", { d: d, fill: "none", stroke: color, "stroke-width": WIDTHS[index % 10], "stroke-dasharray": DASHES[index % 10].join(" "), "stroke-linejoin": "round" }));
    });
    clear(container);
    container.appendChild(svg);
    if (series.length > 1 || series[0].label) legend(container, series.map(function (s) { return s.label; }), series[0].mode === "points");
    container.setAttribute("data-drawn", "true");
  }

  function legend(container, labels, asMarkers) {
    var list = app.element("ul", { "class": "chart-legend" });
    labels.forEach(function (label, index) {
      var item = app.element("li", { "class": "run-" + (index % 10) });
      var swatch = app.element("span", { "class": "swatch", "aria-hidden": "true" });
      item.appendChild(swatch);
      item.appendChild(document.createTextNode((asMarkers ? "(" + MARKERS[index % 4] + ") " : "") + label));
      list.appendChild(item);
    });
    container.appendChild(list);
  }

  function barChart(container, labels, values, title) {
    var colors = palette();
    var rows = labels.length, barHeight = 18, left = 170, right = 70, width = 520;
    var height = rows * (barHeight + 6) + 28;
    var clean = values.map(finite);
    var high = Math.max.apply(null, clean.map(function (v) { return Math.abs(v || 0); }).concat([1e-12]));
    var svg = svgNode("svg", { viewBox: "0 0 " + width + " " + height, "class": "bars", "aria-hidden": "true" });
    labels.forEach(function (label, index) {
      var y = 6 + index * (barHeight + 6);
      var value = clean[index] || 0;
      var length = (Math.abs(value) / high) * (width - left - right);
      svg.appendChild(svgNode("text", { x: left - 8, y: y + barHeight - 5, "text-anchor": "end", fill: colors.fg, "font-size": 12 }, label.length > 26 ? label.slice(0, 25) + "…" : label));
      var bar = svgNode("rect", { x: left, y: y, width: Math.max(1, length), height: barHeight, fill: colors.series[0], rx: 2 });
      bar.appendChild(svgNode("title", {}, label + ": " + formatNumber(clean[index])));
      svg.appendChild(bar);
      svg.appendChild(svgNode("text", { x: left + length + 6, y: y + barHeight - 5, fill: colors.soft, "font-size": 11 }, formatNumber(clean[index])));
    });
    svg.appendChild(svgNode("text", { x: left, y: height - 6, fill: colors.soft, "font-size": 11 }, title || ""));
    clear(container);
    container.appendChild(svg);
    container.setAttribute("data-drawn", "true");
  }

  function drawPlot(container, data) {
    var kind = data.kind;
    if (kind === "feature_importance") {
      barChart(container, data.features.slice(0, 30), data.importances.slice(0, 30), data.x_title);
    } else if (kind === "confusion_matrix") {
      container.remove(); // the table with its shaded cells is the chart
    } else if (kind === "residuals" || kind === "predicted_vs_actual") {
      xyChart(container, [{ label: "", x: data.x, y: data.y, mode: "points" }], {
        xTitle: data.x_title, yTitle: data.y_title, reference: kind === "residuals" ? "zero" : "diagonal"
      });
    } else {
      var unit = kind === "roc_curve" || kind === "calibration_curve" || kind === "precision_recall_curve";
      xyChart(container, data.curves.map(function (curve) { return { label: curve.label, x: curve.x, y: curve.y, mode: "line" }; }), {
        xTitle: data.x_title, yTitle: data.y_title, unit: unit,
        reference: kind === "roc_curve" || kind === "calibration_curve" ? "diagonal" : null
      });
    }
  }

  function setUpPlots() {
    var plots = PAGE.plots;
    if (!plots) return;
    function drawAll() {
      document.querySelectorAll("figure.plot-card").forEach(function (figure) {
        var plot = plots[Number(figure.getAttribute("data-plot-index"))];
        var container = figure.querySelector(".plot.interactive");
        if (plot && plot.data && container) drawPlot(container, plot.data);
      });
    }
    drawAll();
    document.addEventListener("mltrail:theme", drawAll);
  }

  // --- compare: histories, parallel coordinates, scatter -------------------------

  function numeric(values) {
    var numbers = values.map(function (v) {
      if (v === null || v === undefined || v === "") return null;
      var n = typeof v === "number" ? v : Number(v);
      return isFinite(n) ? n : NaN;
    });
    return numbers.some(function (n) { return Number.isNaN(n); }) ? null : numbers;
  }

  // One axis: a column of values (one per run), numeric or categorical.
  function axis(name, values) {
    var numbers = numeric(values);
    if (numbers) {
      var domain = extent(numbers);
      return { name: name, values: values, position: function (i) { var v = numbers[i]; return v === null ? null : (v - domain[0]) / (domain[1] - domain[0]); }, ticks: [formatNumber(domain[0]), formatNumber(domain[1])] };
    }
    var levels = Array.from(new Set(values.filter(function (v) { return v !== null; }).map(String))).sort();
    return {
      name: name, values: values,
      position: function (i) { var v = values[i]; if (v === null) return null; return levels.length === 1 ? 0.5 : levels.indexOf(String(v)) / (levels.length - 1); },
      ticks: [levels[0] || "", levels[levels.length - 1] || ""]
    };
  }

  function parallelChart(container, runs, axes) {
    var colors = palette();
    var width = 560, height = 340, top = 64, bottom = 30, left = 40, right = 56;
    var svg = svgNode("svg", { viewBox: "0 0 " + width + " " + height, "class": "parallel", "aria-hidden": "true" });
    var step = axes.length > 1 ? (width - left - right) / (axes.length - 1) : 0;
    var ax = function (i) { return left + i * step; };
    var ay = function (p) { return top + (1 - p) * (height - top - bottom); };
    axes.forEach(function (a, i) {
      svg.appendChild(svgNode("line", { "class": "axis", x1: ax(i), x2: ax(i), y1: top, y2: height - bottom, stroke: colors.soft }));
      var name = a.name.length > 22 ? a.name.slice(0, 21) + "…" : a.name;
      svg.appendChild(svgNode("text", { x: ax(i), y: top - 16, "text-anchor": "start", fill: colors.fg, "font-size": 11, transform: "rotate(-25 " + ax(i) + " " + (top - 16) + ")" }, name));
      svg.appendChild(svgNode("text", { x: ax(i), y: top - 3, "text-anchor": "middle", fill: colors.soft, "font-size": 10 }, String(a.ticks[1]).slice(0, 14)));
      svg.appendChild(svgNode("text", { x: ax(i), y: height - bottom + 14, "text-anchor": "middle", fill: colors.soft, "font-size": 10 }, String(a.ticks[0]).slice(0, 14)));
    });
    runs.forEach(function (run, r) {
      var d = "", pen = false;
      axes.forEach(function (a, i) {
        var p = a.position(r);
        if (p === null) { pen = false; return; }
        d += (pen ? "L" : "M") + ax(i).toFixed(1) + "," + ay(p).toFixed(1);
        pen = true;
      });
      var path = svgNode("path", { d: d, stroke: colors.series[r % 10], "stroke-dasharray": DASHES[r % 10].join(" ") });
      path.appendChild(svgNode("title", {}, run.run_name + ": " + axes.map(function (a) { return a.name + " = " + formatNumber(a.values[r]); }).join(", ")));
      svg.appendChild(path);
    });
    clear(container);
    container.appendChild(svg);
    container.setAttribute("data-drawn", "true");
  }

  function setUpCompare() {
    if (!PAGE.runs || !document.getElementById("history-chart")) return;
    var runs = PAGE.runs.map(function (run) { return { run_id: run.run_id, label: run.run_name, start_time: run.start_time, run_name: run.run_name }; });
    var form = document.getElementById("compare-controls");
    var keySelect = document.getElementById("history-key");
    var figure = document.getElementById("history-chart");
    var history = null;
    function loadHistory() {
      if (!keySelect.value) { figure.querySelector(".chart-status").textContent = "No metric of these runs has more than one point."; return; }
      history = new HistoryChart(figure, runs, keySelect.value, form);
      history.load();
    }
    keySelect.addEventListener("change", loadHistory);
    figure.addEventListener("dblclick", function () { if (history) history.reset(); });
    watchControls(form, function () { return history && history.response ? [history] : []; });
    loadHistory();

    var metricRows = {};
    PAGE.metrics.forEach(function (row) { metricRows[row.key] = row; });
    var parallelSelect = document.getElementById("parallel-metric");
    var parallel = document.querySelector("#parallel-chart .plot");
    function drawParallel() {
      var axes = PAGE.params.filter(function (row) { return row.differs; }).slice(0, 9).map(function (row) { return axis(row.key, row["values"]); });
      var metric = metricRows[parallelSelect.value];
      if (metric) axes.push(axis(metric.key, metric["values"]));
      if (axes.length) parallelChart(parallel, runs, axes);
    }
    // Prefer a held-out metric for the last axis.
    var preferred = PAGE.metrics.filter(function (row) { return /^test_/.test(row.key); })[0];
    if (preferred) parallelSelect.value = preferred.key;
    parallelSelect.addEventListener("change", drawParallel);

    var xSelect = document.getElementById("scatter-x"), ySelect = document.getElementById("scatter-y");
    var columns = [];
    PAGE.params.forEach(function (row) { if (numeric(row["values"])) columns.push({ name: "params." + row.key, row: row }); });
    PAGE.metrics.forEach(function (row) { columns.push({ name: "metrics." + row.key, row: row }); });
    columns.forEach(function (column) {
      xSelect.appendChild(app.element("option", { value: column.name }, column.name));
      ySelect.appendChild(app.element("option", { value: column.name }, column.name));
    });
    var firstParam = columns.filter(function (c) { return c.name.indexOf("params.") === 0 && c.row.differs; })[0] || columns[0];
    if (firstParam) xSelect.value = firstParam.name;
    if (preferred) ySelect.value = "metrics." + preferred.key; else if (columns[1]) ySelect.value = columns[1].name;
    var scatter = document.querySelector("#scatter-chart .plot");
    function drawScatter() {
      var x = columns.filter(function (c) { return c.name === xSelect.value; })[0];
      var y = columns.filter(function (c) { return c.name === ySelect.value; })[0];
      if (!x || !y) return;
      var xs = numeric(x.row["values"]) || [], ys = numeric(y.row["values"]) || [];
      xyChart(scatter, runs.map(function (run, i) {
        return { label: run.run_name, x: [xs[i]], y: [ys[i]], mode: "points", titles: [run.run_name + ": " + formatNumber(xs[i]) + ", " + formatNumber(ys[i])] };
      }), { xTitle: x.name, yTitle: y.name });
    }
    xSelect.addEventListener("change", drawScatter);
    ySelect.addEventListener("change", drawScatter);
    function drawAll() { drawParallel(); drawScatter(); if (history && history.response) history.draw(); }
    drawParallel();
    drawScatter();
    document.addEventListener("mltrail:theme", drawAll);
  }

  function start() {
    setUpMetricCharts();
    setUpPlots();
    setUpCompare();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
