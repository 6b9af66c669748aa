// kiln profiler: the report's interactive part. Everything it draws comes from the JSON embedded
// in <script id="kiln-data"> (the same JSON the other kiln commands write); the page's tables
// and the graph drawing are already there without this script.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("kiln-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";

  // ---- small helpers ----
  function el(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function sv(tag, attrs, parent, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function tip(node, text) { sv("title", {}, node, text); }
  function short(v) {
    if (v === null || v === undefined || isNaN(v)) return "";
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + " G";
    if (a >= 1e6) return (v / 1e6).toFixed(2) + " M";
    if (a >= 1e3) return (v / 1e3).toFixed(2) + " K";
    return String(Math.round(v * 1000) / 1000);
  }
  function bytes(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(2) + " MB";
    if (v >= 1e3) return (v / 1e3).toFixed(1) + " KB";
    return v + " B";
  }
  function shape(s) { return "[" + s.join(", ") + "]"; }

  var layers = D.model.layers;
  var byName = {};
  layers.forEach(function (l, i) { l.index = i; byName[l.name] = l; });
  var report = D.optimization;
  var noiseOf = {};
  if (report) report.layers.forEach(function (r) { noiseOf[r.layer] = r; });
  var planOf = {};
  if (D.compilation) D.compilation.plan.layers.forEach(function (p) { planOf[p.name] = p; });
  var runOf = {};
  if (D.runtime) D.runtime.profile.forEach(function (p) {
    runOf[p.layer] = (runOf[p.layer] || 0) + (p.ms_per_frame || 0);
  });
  var scriptLines = D.script ? D.script.text.split("\n") : [];
  // Layers whose output is a network output (they feed an output_layer).
  var isOutput = {};
  layers.forEach(function (l) {
    if (l.type === "output_layer") l.inputs.forEach(function (n) { isOutput[n] = true; });
  });

  // ---- tabs ----
  var views = ["model", "optimization", "compilation", "runtime", "noise"];
  function show(id) {
    if (views.indexOf(id) < 0) id = "model";
    views.forEach(function (v) {
      document.getElementById(v).classList.toggle("active", v === id);
    });
    document.querySelectorAll("nav a").forEach(function (a) {
      a.classList.toggle("active", a.getAttribute("href") === "#" + id);
    });
  }
  document.body.classList.add("tabs");
  document.querySelectorAll("nav a").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      var id = a.getAttribute("href").slice(1);
      history.replaceState(null, "", "#" + id);
      show(id);
      window.scrollTo(0, 0);
    });
  });

  // ---- sortable tables ----
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var ths = table.querySelectorAll("thead th");
    ths.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        ths.forEach(function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var ca = a.cells[col], cb = b.cells[col];
          var va = ca.getAttribute("data-v"), vb = cb.getAttribute("data-v");
          var r;
          if (va !== null && vb !== null) r = parseFloat(va) - parseFloat(vb);
          else if (va !== null) r = -1;
          else if (vb !== null) r = 1;
          else r = ca.textContent.localeCompare(cb.textContent);
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  // ---- the graph: colours and the layer card ----
  var nodes = {};  // layer index -> <g>
  document.querySelectorAll("#graph g.node").forEach(function (g) {
    var m = /^layer_(\d+)$/.exec(g.id);
    if (m) nodes[+m[1]] = g;
  });
  function shapeOf(g) { return g.querySelector("path, polygon"); }
  function snrColour(db) {
    var bands = D.palette.snr;
    for (var i = 0; i < bands.length; i++) if (db >= bands[i].min_db) return bands[i].colour;
    return bands[bands.length - 1].colour;
  }
  function precisionColour(p) { return D.palette.precision[p] || D.palette.precision_other; }
  function colourBy(mode) {
    layers.forEach(function (l, i) {
      var g = nodes[i];
      if (!g || !shapeOf(g)) return;
      var fill;
      if (mode === "snr") {
        var r = noiseOf[l.name];
        fill = r && r.snr_db !== null && r.snr_db !== undefined ? snrColour(r.snr_db) : "#ffffff";
      } else {
        fill = precisionColour(l.quant ? l.quant.precision : "");
      }
      shapeOf(g).setAttribute("fill", fill);
    });
    var legend = document.getElementById("legend");
    legend.textContent = "";
    var items = mode === "snr"
      ? D.palette.snr.map(function (b) { return [b.colour, b.label]; }).concat([["#ffffff", "no SNR"]])
      : Object.keys(D.palette.precision).map(function (k) { return [D.palette.precision[k], k]; })
          .concat([[D.palette.precision_other, "float / other"]]);
    items.forEach(function (it) {
      var s = el("span", {}, legend);
      el("i", { style: "background:" + it[0] }, s);
      s.appendChild(document.createTextNode(it[1]));
    });
  }
  var tools = document.getElementById("graph-tools");
  ["precision", "snr"].forEach(function (mode) {
    var lab = el("label", {}, tools);
    var input = el("input", { type: "radio", name: "colour-by", value: mode }, lab);
    if (mode === "precision") input.checked = true;
    if (mode === "snr" && !report) input.disabled = true;
    lab.appendChild(document.createTextNode(" colour by " + (mode === "snr" ? "SNR" : "precision")));
    input.addEventListener("change", function () { colourBy(mode); });
  });
  var zoomLabel = el("label", {}, tools);
  var zoom = el("input", { type: "checkbox" }, zoomLabel);
  zoomLabel.appendChild(document.createTextNode(" actual size (scroll) instead of fit to width"));
  zoom.addEventListener("change", function () {
    document.getElementById("graph").classList.toggle("actual", zoom.checked);
  });

  function scriptLine(source) {
    var m = /:(\d+)$/.exec(source || "");
    if (!m) return null;
    return { n: +m[1], text: scriptLines[+m[1] - 1] };
  }
  function card(i) {
    var l = layers[i];
    var c = document.getElementById("card");
    c.textContent = "";
    el("h4", {}, c, l.name);
    var dl = el("dl", {}, c);
    function row(k, v) { if (v === undefined || v === null || v === "") return; el("dt", {}, dl, k); el("dd", {}, dl, v); }
    row("type", l.type + (l.activation && l.activation !== "linear" ? " + " + l.activation : ""));
    row("ONNX names", l.original_names.join(", "));
    row("inputs", l.inputs.join(", "));
    row("input shapes", l.input_shapes.map(shape).join(" "));
    row("output shapes", l.output_shapes.map(shape).join(" "));
    row("params", short(l.params));
    row("MACs", short(l.macs));
    if (l.quant) {
      row("precision", l.quant.precision);
      row("output", l.quant.output_bits + "-bit, scale " + l.quant.scale.toPrecision(6) +
          ", zero point " + l.quant.zero_point);
      var src = l.quant.precision_source;
      var line = scriptLine(src);
      row("set by", src + (line && line.text !== undefined ? ": " + line.text.trim() : ""));
    }
    var r = noiseOf[l.name];
    if (r) {
      row("SNR", r.snr_db + " dB (local " + r.local_snr_db + ", floor " + r.floor_snr_db + ")");
      row("range", "[" + short(r.range[0]) + ", " + short(r.range[1]) + "] by " + r.range_method +
          "; calibrated [" + short(r.calibrated_range[0]) + ", " + short(r.calibrated_range[1]) + "]");
      if (r.flag) row("flag", r.flag);
    }
    var p = planOf[l.name];
    if (p) row("context", p.context + " (weights " + bytes(p.weight_bytes) + ", activations " +
               bytes(p.activation_bytes) + ")");
    if (runOf[l.name] !== undefined) row("runtime", runOf[l.name].toFixed(4) + " ms per frame");
    Object.keys(nodes).forEach(function (k) { nodes[k].classList.toggle("selected", +k === i); });
    document.querySelectorAll("#layer-table tbody tr").forEach(function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-layer") === l.name);
    });
  }
  Object.keys(nodes).forEach(function (k) {
    nodes[k].addEventListener("click", function () { card(+k); });
  });
  document.querySelectorAll("#layer-table tbody tr").forEach(function (tr) {
    tr.addEventListener("click", function () {
      var l = byName[tr.getAttribute("data-layer")];
      if (!l) return;
      card(l.index);
      if (nodes[l.index]) nodes[l.index].scrollIntoView({ block: "center", inline: "center" });
    });
  });

  // ---- charts (inline SVG) ----
  // Horizontal bars: items [{label, value, colour, title}], opts {unit, budget, budgetLabel}.
  function barChart(host, title, items, opts) {
    if (!host || !items.length) return;
    opts = opts || {};
    var rowH = 16, labelW = 170, w = 760, top = 26;
    var max = Math.max.apply(null, items.map(function (it) { return it.value; }).concat([opts.budget || 0, 1e-12]));
    var h = top + items.length * rowH + 24;
    var s = sv("svg", { width: labelW + w + 200, height: h }, host);
    sv("text", { x: 4, y: 16, "font-weight": "bold" }, s, title);
    items.forEach(function (it, k) {
      var y = top + k * rowH;
      sv("text", { x: labelW - 6, y: y + 11, "text-anchor": "end" }, s,
         it.label.length > 26 ? it.label.slice(0, 25) + "…" : it.label);
      var bw = Math.max(1, w * it.value / max);
      var r = sv("rect", { x: labelW, y: y + 2, width: bw, height: rowH - 4, fill: it.colour || "#6baed6" }, s);
      tip(r, it.title || it.label + ": " + it.value);
      sv("text", { x: labelW + bw + 4, y: y + 11 }, s, it.text || short(it.value) + (opts.unit || ""));
    });
    if (opts.budget) {
      var x = labelW + w * opts.budget / max;
      sv("line", { x1: x, x2: x, y1: top - 4, y2: h - 20, stroke: "#d00", "stroke-dasharray": "4 3" }, s);
      sv("text", { x: x, y: h - 6, "text-anchor": "middle", fill: "#d00" }, s, opts.budgetLabel || "budget");
    }
  }

  // Lines along the network: series [{name, colour, values[]}] over labels[]; marks {index: text}.
  function lineChart(host, title, labels, series, marks, flagged) {
    if (!host || !labels.length) return;
    var left = 46, right = 20, top = 46, ph = 220, bottom = 70;
    var step = Math.max(6, Math.min(28, 900 / labels.length));
    var w = Math.max(760, left + right + step * Math.max(1, labels.length - 1));
    var vals = [];
    series.forEach(function (se) { se.values.forEach(function (v) { if (v !== null && isFinite(v)) vals.push(v); }); });
    // The axis ends 40 dB above the median accumulated SNR: exact layers (constants, copies)
    // have SNRs far higher, drawn at the top edge.
    var main = [];
    series.slice(0, 1).forEach(function (se) { se.values.forEach(function (v) { if (v !== null && isFinite(v)) main.push(v); }); });
    var lo = Math.min(0, Math.min.apply(null, vals));
    main.sort(function (a, b) { return a - b; });
    var median = main.length ? main[Math.floor((main.length - 1) / 2)] : 10;
    var hi = Math.min(Math.max.apply(null, vals.concat([10])), Math.max(10, median) + 40);
    hi = Math.ceil(hi / 10) * 10;
    function X(i) { return left + i * step; }
    function Y(v) { return top + ph - ph * (Math.min(v, hi) - lo) / (hi - lo || 1); }
    var s = sv("svg", { width: w, height: top + ph + bottom }, host);
    sv("text", { x: 4, y: 16, "font-weight": "bold" }, s, title);
    for (var g = lo; g <= hi; g += 10) {
      sv("line", { x1: left, x2: w - right, y1: Y(g), y2: Y(g), "class": "grid" }, s);
      sv("text", { x: left - 4, y: Y(g) + 4, "text-anchor": "end" }, s, g + "");
    }
    sv("line", { x1: left, x2: w - right, y1: Y(10), y2: Y(10), stroke: "#d73027", "stroke-dasharray": "3 3" }, s);
    Object.keys(marks).forEach(function (i) {
      sv("rect", { x: X(+i) - step / 2, y: top, width: step, height: ph, fill: "#fff3c4" }, s);
    });
    series.forEach(function (se) {
      var d = "";
      se.values.forEach(function (v, i) {
        if (v === null || !isFinite(v)) return;
        d += (d ? "L" : "M") + X(i).toFixed(1) + "," + Y(v).toFixed(1);
      });
      sv("path", { d: d, fill: "none", stroke: se.colour, "stroke-width": 1.6 }, s);
      se.values.forEach(function (v, i) {
        if (v === null || !isFinite(v)) return;
        var c = sv("circle", { cx: X(i), cy: Y(v), r: flagged[i] ? 4 : 2.2, fill: flagged[i] ? "#d73027" : se.colour }, s);
        tip(c, labels[i] + ": " + se.name + " " + v + " dB" + (marks[i] ? " (" + marks[i] + ")" : ""));
      });
    });
    labels.forEach(function (lab, i) {
      if (labels.length > 40 && !marks[i] && !flagged[i] && i % Math.ceil(labels.length / 40)) return;
      sv("text", { x: X(i), y: top + ph + 10, transform: "rotate(60 " + X(i) + " " + (top + ph + 10) + ")" }, s,
         lab.length > 14 ? lab.slice(0, 13) + "…" : lab);
    });
    var lx = left + 10;
    series.forEach(function (se) {
      sv("rect", { x: lx, y: top - 14, width: 10, height: 4, fill: se.colour }, s);
      sv("text", { x: lx + 14, y: top - 9 }, s, se.name);
      lx += 90;
    });
    sv("text", { x: lx + 10, y: top - 9, fill: "#d73027" }, s, "– – 10 dB flag line; shaded: outputs; values above " + hi + " dB drawn at the top");
  }

  if (report) {
    var rl = report.layers;
    var marks = {}, flagged = {};
    rl.forEach(function (r, i) {
      if (isOutput[r.layer]) marks[i] = "output";
      if (r.flag) flagged[i] = true;
    });
    lineChart(document.getElementById("snr-chart"), "SNR along the network (dB)",
      rl.map(function (r) { return r.layer; }),
      [{ name: "accumulated", colour: "#3366cc", values: rl.map(function (r) { return r.snr_db; }) },
       { name: "local", colour: "#ff9900", values: rl.map(function (r) { return r.local_snr_db; }) },
       { name: "floor", colour: "#109618", values: rl.map(function (r) { return r.floor_snr_db; }) }],
      marks, flagged);

    // Ranges: each layer's chosen range inside its calibrated one (clipped parts in red).
    var host = document.getElementById("range-chart");
    var rowH = 14, labelW = 170, w = 600, top = 26;
    var s = sv("svg", { width: labelW + w + 40, height: top + rl.length * rowH + 10 }, host);
    sv("text", { x: 4, y: 16, "font-weight": "bold" }, s,
       "Ranges (each row scaled to its own calibrated span; blue: chosen range, red: clipped, grey line: zero)");
    rl.forEach(function (r, k) {
      var y = top + k * rowH, c = r.calibrated_range, q = r.range;
      var lo = Math.min(c[0], q[0], 0), hi = Math.max(c[1], q[1], 0), span = hi - lo || 1;
      function X(v) { return labelW + w * (v - lo) / span; }
      sv("text", { x: labelW - 6, y: y + 10, "text-anchor": "end" }, s, r.layer);
      var cal = sv("rect", { x: X(c[0]), y: y + 2, width: Math.max(1, X(c[1]) - X(c[0])), height: rowH - 4, fill: "#f4a6a6" }, s);
      tip(cal, r.layer + ": calibrated [" + c[0] + ", " + c[1] + "]");
      var ch = sv("rect", { x: X(Math.max(q[0], c[0])), y: y + 2, width: Math.max(1, X(Math.min(q[1], c[1])) - X(Math.max(q[0], c[0]))), height: rowH - 4, fill: "#6baed6" }, s);
      tip(ch, r.layer + ": range [" + q[0] + ", " + q[1] + "] (" + r.range_method + ", " + r.bits + "-bit)");
      sv("line", { x1: X(0), x2: X(0), y1: y + 1, y2: y + rowH - 1, stroke: "#555" }, s);
    });

    // The script line behind a precision: highlight it from the card's "set by".
  }

  if (D.compilation) {
    var plan = D.compilation.plan;
    var budget = plan.usable_memory_bytes;
    var ctxHost = document.getElementById("context-chart");
    barChart(ctxHost, "Memory per context (weights + other + activations) against the usable on-chip memory",
      plan.contexts.map(function (c) {
        return { label: "context " + c.index + " (" + c.layer_count + " layers)", value: c.memory_bytes,
                 colour: c.fits ? "#6baed6" : "#d73027", text: bytes(c.memory_bytes),
                 title: c.first_layer + " .. " + c.last_layer + ": weights " + bytes(c.weight_bytes) +
                        ", other " + bytes(c.aux_bytes) + ", activations " + bytes(c.activation_bytes) };
      }), { budget: budget, budgetLabel: "usable " + bytes(budget) });
    barChart(ctxHost, "MACs and latency per context",
      plan.contexts.map(function (c) {
        return { label: "context " + c.index, value: c.macs, colour: "#9e9ac8",
                 text: short(c.macs) + " MACs, " + c.latency_us.toFixed(1) + " µs" };
      }), {});
  }

  if (D.executable) {
    var ex = D.executable, arena = ex.arena;
    var hostA = document.getElementById("arena-chart");
    var nOps = ex.operations.length;
    var left = 60, top = 26, pw = Math.max(600, Math.min(1100, nOps * 8)), ph = 300;
    var sa = sv("svg", { width: left + pw + 20, height: top + ph + 40 }, hostA);
    sv("text", { x: 4, y: 16, "font-weight": "bold" }, sa,
       "Activation arena over time (" + bytes(arena.bytes) + "; x: operation, y: offset)");
    function AX(i) { return left + pw * (i + 1) / (nOps + 1); }
    function AY(b) { return top + ph * b / (arena.bytes || 1); }
    sv("rect", { x: left, y: top, width: pw, height: ph, fill: "#f7f7f7", stroke: "#ccc" }, sa);
    arena.tensors.forEach(function (t) {
      var l = byName[t.layer];
      var fill = l && l.quant ? precisionColour(l.quant.precision) : "#bbbbbb";
      var r = sv("rect", { x: AX(t.first_op), y: AY(t.offset_bytes),
                           width: Math.max(2, AX(t.last_op) - AX(t.first_op)),
                           height: Math.max(1, AY(t.offset_bytes + t.bytes) - AY(t.offset_bytes)),
                           fill: fill, stroke: "#555", "stroke-width": 0.5 }, sa);
      tip(r, (t.layer || "tensor " + t.tensor) + ": " + bytes(t.bytes) + " at " + bytes(t.offset_bytes) +
          ", operations " + t.first_op + " .. " + t.last_op);
    });
    sv("text", { x: left, y: top + ph + 16 }, sa, "first operation");
    sv("text", { x: left + pw, y: top + ph + 16, "text-anchor": "end" }, sa, "last (" + nOps + " operations)");
  }

  if (D.runtime) {
    var typeMs = {};
    D.runtime.profile.forEach(function (p) {
      var l = byName[p.layer];
      var t = l ? l.type : p.opcode;
      typeMs[t] = (typeMs[t] || 0) + p.ms_per_frame;
    });
    var types = Object.keys(typeMs).sort(function (a, b) { return typeMs[b] - typeMs[a]; });
    barChart(document.getElementById("runtime-type-chart"), "Time per layer type (ms per frame)",
      types.map(function (t) { return { label: t, value: typeMs[t], text: typeMs[t].toFixed(4) + " ms" }; }), {});
    var ops = D.runtime.profile.slice().sort(function (a, b) { return b.ms_per_frame - a.ms_per_frame; }).slice(0, 40);
    barChart(document.getElementById("runtime-op-chart"), "The slowest operations (ms per frame)",
      ops.map(function (p) {
        var l = byName[p.layer];
        return { label: p.layer, value: p.ms_per_frame, text: p.ms_per_frame.toFixed(4) + " ms (" + (100 * p.share).toFixed(1) + "%)",
                 colour: l && l.quant ? precisionColour(l.quant.precision) : "#6baed6" };
      }), {});
  }

  if (D.noise) {
    var nl = D.noise.layers;
    var noiseHost = document.getElementById("noise-chart");
    barChart(noiseHost, "Output SNR with only this layer quantized (dB; lower: more sensitive)",
      nl.map(function (l) {
        return { label: l.name, value: Math.max(0, l.snr_db || 0), text: (l.snr_db === null ? "–" : l.snr_db.toFixed(1)) + " dB",
                 colour: snrColour(l.snr_db || 0) };
      }), {});
    barChart(noiseHost, "Gain from lifting the layer to 16 bits (dB, best output)",
      nl.map(function (l) {
        var g = 0;
        (l.effects || []).forEach(function (e) { if (e.lift16_gain_db > g) g = e.lift16_gain_db; });
        return { label: l.name, value: g, text: g.toFixed(1) + " dB", colour: "#fdae6b" };
      }), {});
  }

  colourBy("precision");
  // #view, or #model/<layer> for a layer's card (a link to one layer).
  function route() {
    var parts = decodeURIComponent(location.hash.slice(1)).split("/");
    show(parts[0]);
    if (parts[0] === "model" && parts[1] && byName[parts[1]]) card(byName[parts[1]].index);
  }
  route();
  // Tabs replace the anchors: a #view in the address shows that view from the top.
  window.addEventListener("load", function () {
    window.scrollTo(0, 0);
    setTimeout(function () { window.scrollTo(0, 0); }, 0);
  });
  window.addEventListener("hashchange", route);
  document.body.setAttribute("data-kiln-ready", "yes");
})();
