#include "compiler/profiler/report_html.h"

#include <map>
#include <sstream>

#include <fmt/core.h>

#include "common/strings.h"
#include "compiler/archive/json_text.h"
#include "compiler/profiler/report_assets.h"

namespace kiln::profiler {

namespace {

using Json = nlohmann::json;

std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const Json& v = j.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

double num(const Json& j, const char* key, double fallback = 0) {
  if (!j.is_object() || !j.contains(key) || !j.at(key).is_number()) return fallback;
  return j.at(key).get<double>();
}

std::string db(double v) {
  return fmt::format("{:.2f}", v);
}

// 454464 -> "454.5 K", 1.2e9 -> "1.20 G": counts for people (MACs, parameters).
std::string count(double v) {
  const double a = v < 0 ? -v : v;
  if (a >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.1f} K", v / 1e3);
  return fmt::format("{}", v);
}

std::string shapeText(const Json& shapes) {
  std::vector<std::string> parts;
  if (shapes.is_array())
    for (const Json& s : shapes) parts.push_back(shapeStr(s.get<std::vector<int64_t>>()));
  return join(parts, " ");
}

// A table cell; `sortKey` (numbers) lets the script sort by value rather than by text.
std::string td(const std::string& text, const std::string& sortKey = "") {
  return sortKey.empty() ? "<td>" + esc(text) + "</td>"
                         : "<td data-v=\"" + esc(sortKey) + "\">" + esc(text) + "</td>";
}

std::string numTd(double v, const std::string& text) {
  return td(text, fmt::format("{}", v));
}

std::string missing(const std::string& what, const std::string& how) {
  return "<p class=\"missing\">" + esc(what) + " Not in this report: " + how + "</p>\n";
}

// ---- Model ----

std::string modelView(const Json& d, const std::string& graphSvg) {
  const Json& model = d.at("model");
  const Json& report = d.at("optimization");
  std::map<std::string, Json> snr;  // layer -> noise report entry
  if (report.is_object())
    for (const Json& l : report.at("layers")) snr[str(l, "layer")] = l;
  std::map<std::string, int> context;
  const Json& comp = d.at("compilation");
  if (comp.is_object())
    for (const Json& l : comp.at("plan").at("layers"))
      context[str(l, "name")] = l.value("context", -1);

  std::ostringstream o;
  o << "<section id=\"model\" class=\"view\"><h2>Model</h2>\n"
    << "<p>The network top to bottom, one box per layer, filled by precision (legend below). "
       "With JavaScript: switch to colour by SNR, click a layer for its card.</p>\n"
    << "<div id=\"graph-tools\"></div>\n<div class=\"legend\" id=\"legend\">";
  for (const auto& [mode, colour] : d.at("palette").at("precision").items())
    o << "<span><i style=\"background:" << esc(colour.get<std::string>()) << "\"></i>" << esc(mode)
      << "</span>";
  o << "<span><i style=\"background:" << esc(str(d.at("palette"), "precision_other"))
    << "\"></i>float / other</span></div>\n"
    << "<div class=\"graph-wrap\"><div id=\"graph\">" << graphSvg << "</div>\n"
    << "<aside id=\"card\"><p class=\"hint\">Click a layer to see its card.</p></aside></div>\n";

  o << "<h3>Layers</h3>\n<table id=\"layer-table\" class=\"sortable\"><thead><tr>"
       "<th>#</th><th>layer</th><th>type</th><th>ONNX names</th><th>output shape</th>"
       "<th>params</th><th>MACs</th><th>precision</th><th>set by</th><th>SNR dB</th>"
       "<th>local dB</th><th>floor dB</th><th>context</th></tr></thead><tbody>\n";
  int i = 0;
  for (const Json& l : model.at("layers")) {
    const std::string name = str(l, "name");
    std::string type = str(l, "type");
    if (str(l, "activation") != "linear" && !str(l, "activation").empty())
      type += "+" + str(l, "activation");
    const Json q = l.value("quant", Json::object());
    const auto s = snr.find(name);
    const Json e = s == snr.end() ? Json::object() : s->second;
    const auto ctx = context.find(name);
    o << "<tr data-layer=\"" << esc(name) << "\">" << numTd(i, std::to_string(i)) << td(name)
      << td(type) << td(join(l.value("original_names", std::vector<std::string>{}), ", "))
      << td(shapeText(l.at("output_shapes"))) << numTd(num(l, "params"), count(num(l, "params")))
      << numTd(num(l, "macs"), count(num(l, "macs"))) << td(str(q, "precision"))
      << td(str(q, "precision_source"))
      << (e.contains("snr_db") ? numTd(num(e, "snr_db"), db(num(e, "snr_db"))) : td(""))
      << (e.contains("local_snr_db") ? numTd(num(e, "local_snr_db"), db(num(e, "local_snr_db")))
                                     : td(""))
      << (e.contains("floor_snr_db") ? numTd(num(e, "floor_snr_db"), db(num(e, "floor_snr_db")))
                                     : td(""))
      << (ctx == context.end() ? td("") : numTd(ctx->second, std::to_string(ctx->second)))
      << "</tr>\n";
    ++i;
  }
  o << "</tbody></table>\n<p>Total: " << model.at("layers").size() << " layers, "
    << count(num(model, "total_params")) << " parameters, " << count(num(model, "total_macs"))
    << " MACs per frame.</p>\n</section>\n";
  return o.str();
}

// ---- Optimization ----

std::string optimizationView(const Json& d) {
  const Json& r = d.at("optimization");
  std::ostringstream o;
  o << "<section id=\"optimization\" class=\"view\"><h2>Optimization</h2>\n";
  if (!r.is_object()) {
    o << missing("This archive is not quantized.",
                 "run kiln optimize and profile the optimized archive.")
      << "</section>\n";
    return o.str();
  }
  o << "<p>Calibration: " << esc(str(r.value("calibration", Json::object()), "description"))
    << "; SNR measured on " << num(r, "samples") << " sample(s). SNR is accumulated (the "
    << "layer's output against float, with every error before it), local (this layer alone on "
       "float inputs) and floor (the output's own rounding).</p>\n"
    << "<div id=\"snr-chart\" class=\"chart\"></div>\n<h3>Outputs</h3>\n<table><thead><tr>"
       "<th>output</th><th>bits</th><th>SNR dB</th><th>note</th></tr></thead><tbody>\n";
  for (const Json& out : r.at("outputs"))
    o << "<tr>" << td(str(out, "output")) << td(str(out, "bits")) << td(db(num(out, "snr_db")))
      << td(out.value("degenerate", false) ? "near-constant over the calibration set" : "")
      << "</tr>\n";
  o << "</tbody></table>\n<h3>Flagged layers</h3>\n";
  std::ostringstream flagged;
  for (const Json& l : r.at("layers"))
    if (!str(l, "flag").empty())
      flagged << "<li><b>" << esc(str(l, "layer")) << "</b> (" << db(num(l, "snr_db"))
              << " dB): " << esc(str(l, "flag")) << "</li>\n";
  o << (flagged.str().empty() ? std::string("<p>None: every layer is at or above 10 dB.</p>\n")
                              : "<ul class=\"flagged\">" + flagged.str() + "</ul>\n");
  o << "<h3>Ranges</h3>\n<p>Each tensor's calibrated range (minimum to maximum over the "
       "calibration set) and the range the quantization uses; a chosen range narrower than the "
       "calibrated one clips. The calibration statistics kept in the archive are the ranges "
       "(no histograms).</p>\n<div id=\"range-chart\" class=\"chart\"></div>\n"
       "<table id=\"range-table\" class=\"sortable\"><thead><tr><th>layer</th><th>bits</th>"
       "<th>calibrated min</th><th>calibrated max</th><th>range min</th><th>range max</th>"
       "<th>method</th><th>clipped</th></tr></thead><tbody>\n";
  for (const Json& l : r.at("layers")) {
    const auto cr = l.value("calibrated_range", std::vector<double>{0, 0});
    const auto rr = l.value("range", std::vector<double>{0, 0});
    const double span = cr.size() == 2 ? cr[1] - cr[0] : 0;
    double clipped = 0;
    if (span > 0 && cr.size() == 2 && rr.size() == 2)
      clipped = (std::max(0.0, rr[0] - cr[0]) + std::max(0.0, cr[1] - rr[1])) / span;
    o << "<tr>" << td(str(l, "layer")) << td(str(l, "bits"))
      << numTd(cr.at(0), shortNumber(cr.at(0))) << numTd(cr.at(1), shortNumber(cr.at(1)))
      << numTd(rr.at(0), shortNumber(rr.at(0))) << numTd(rr.at(1), shortNumber(rr.at(1)))
      << td(str(l, "range_method"))
      << numTd(clipped, clipped > 0 ? fmt::format("{:.1f}% of the span", clipped * 100) : "")
      << "</tr>\n";
  }
  o << "</tbody></table>\n<h3>Script</h3>\n";
  const Json& script = d.at("script");
  if (!script.is_object()) {
    o << "<p>No model script: defaults only.</p>\n";
  } else {
    // Lines the optimizer reported as not applied ("<path>:<line>: ...").
    std::map<int, std::string> notApplied;
    for (const Json& n : r.value("not_applied", Json::array())) {
      const std::string s = n.get<std::string>();
      const size_t colon = s.find(": ");
      const size_t lineColon = s.rfind(':', colon == std::string::npos ? 0 : colon - 1);
      if (colon != std::string::npos && lineColon != std::string::npos)
        notApplied[std::atoi(s.c_str() + lineColon + 1)] += s.substr(colon + 2) + " ";
    }
    for (const Json& w : script.value("warnings", Json::array()))
      notApplied[w.value("line", 0)] += w.value("message", std::string()) + " ";
    o << "<p>" << esc(str(script, "path"))
      << " as applied; lines marked <span class=\"na\">not applied</span> were parsed and "
         "reported but have no effect in Kiln.</p>\n<pre class=\"script\">";
    std::istringstream lines(str(script, "text"));
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      const auto na = notApplied.find(n);
      o << "<span class=\"line" << (na == notApplied.end() ? "" : " na") << "\" id=\"script-" << n
        << "\"" << (na == notApplied.end() ? "" : " title=\"" + esc(na->second) + "\"") << "><b>"
        << n << "</b>" << esc(line) << "</span>\n";
    }
    o << "</pre>\n";
  }
  o << "</section>\n";
  return o.str();
}

// ---- Compilation ----

std::string compilationView(const Json& d) {
  const Json& c = d.at("compilation");
  std::ostringstream o;
  o << "<section id=\"compilation\" class=\"view\"><h2>Compilation</h2>\n";
  if (!c.is_object()) {
    o << missing("No resource plan.", "profile an optimized archive, or give --kef.")
      << "</section>\n";
    return o.str();
  }
  const Json& plan = c.at("plan");
  const Json& arch = plan.at("arch");
  const Json& totals = plan.at("totals");
  o << "<p>Plan for " << esc(str(arch, "display_name")) << " (" << esc(str(arch, "name"))
    << "), from " << esc(str(c, "source")) << ". Usable on-chip memory "
    << formatBytes(int64_t(num(plan, "usable_memory_bytes"))) << " per context.</p>\n"
    << "<p class=\"figures\"><span><b>" << num(totals, "contexts") << "</b> context(s)</span>"
    << "<span><b>" << fmt::format("{:.1f}", num(totals, "latency_us"))
    << "</b> µs latency</span><span><b>" << fmt::format("{:.1f}", num(totals, "fps"))
    << "</b> FPS (estimated, batch " << num(totals, "batch_size") << ")</span><span><b>"
    << count(num(totals, "macs")) << "</b> MACs</span></p>\n"
    << "<div id=\"context-chart\" class=\"chart\"></div>\n<table><thead><tr><th>context</th>"
       "<th>layers</th><th>count</th><th>weights</th><th>other</th><th>activations</th>"
       "<th>memory</th><th>of budget</th><th>MACs</th><th>latency µs</th><th>fits</th>"
       "</tr></thead><tbody>\n";
  const double budget = num(plan, "usable_memory_bytes", 1);
  for (const Json& x : plan.at("contexts"))
    o << "<tr>" << td(str(x, "index")) << td(str(x, "first_layer") + " .. " + str(x, "last_layer"))
      << td(str(x, "layer_count")) << td(formatBytes(int64_t(num(x, "weight_bytes"))))
      << td(formatBytes(int64_t(num(x, "aux_bytes"))))
      << td(formatBytes(int64_t(num(x, "activation_bytes"))))
      << td(formatBytes(int64_t(num(x, "memory_bytes"))))
      << td(fmt::format("{:.1f}%", 100 * num(x, "memory_bytes") / budget))
      << td(count(num(x, "macs"))) << td(fmt::format("{:.1f}", num(x, "latency_us")))
      << td(x.value("fits", true) ? "yes" : "NO") << "</tr>\n";
  o << "</tbody></table>\n";
  for (const Json& w : plan.value("warnings", Json::array()))
    o << "<p class=\"warn\">" << esc(w.is_string() ? w.get<std::string>() : w.dump()) << "</p>\n";
  const Json& exe = d.at("executable");
  o << "<h3>Memory plan</h3>\n";
  if (exe.is_object()) {
    o << "<p>" << esc(str(exe, "file")) << ": " << formatBytes(int64_t(num(exe, "bytes"))) << ", "
      << exe.at("operations").size() << " operations; activation arena "
      << formatBytes(int64_t(num(exe.at("arena"), "bytes")))
      << ". The chart shows each tensor's place in the arena (vertical) from the operation "
         "that writes it to the last that reads it (horizontal).</p>\n"
      << "<div id=\"arena-chart\" class=\"chart\"></div>\n";
  } else {
    o << missing("No executable.", "give --kef X.kef for the arena over time.");
  }
  o << "</section>\n";
  return o.str();
}

// ---- Runtime ----

std::string runtimeView(const Json& d) {
  const Json& r = d.at("runtime");
  std::ostringstream o;
  o << "<section id=\"runtime\" class=\"view\"><h2>Runtime</h2>\n";
  if (!r.is_object()) {
    o << missing("No runtime profile.",
                 "kilnrt run X.kef --profile --json > run.json, then --runtime-profile run.json.")
      << "</section>\n";
    return o.str();
  }
  o << "<p>" << esc(str(r, "file")) << ": " << fmt::format("{:.3f}", num(r, "ms_per_frame"))
    << " ms per frame (" << fmt::format("{:.1f}", num(r, "fps")) << " FPS) over "
    << num(r, "frames") << " frames on the CPU, inputs " << esc(str(r, "inputs")) << ".</p>\n"
    << "<div id=\"runtime-type-chart\" class=\"chart\"></div>\n"
    << "<div id=\"runtime-op-chart\" class=\"chart\"></div>\n"
    << "<table id=\"runtime-table\" class=\"sortable\"><thead><tr><th>op</th><th>layer</th>"
       "<th>opcode</th><th>ms/frame</th><th>share</th></tr></thead><tbody>\n";
  for (const Json& p : r.at("profile"))
    o << "<tr>" << numTd(num(p, "index"), str(p, "index")) << td(str(p, "layer"))
      << td(str(p, "opcode"))
      << numTd(num(p, "ms_per_frame"), fmt::format("{:.4f}", num(p, "ms_per_frame")))
      << numTd(num(p, "share"), fmt::format("{:.1f}%", 100 * num(p, "share"))) << "</tr>\n";
  o << "</tbody></table>\n</section>\n";
  return o.str();
}

// ---- Noise analysis ----

std::string noiseView(const Json& d) {
  const Json& n = d.at("noise");
  std::ostringstream o;
  o << "<section id=\"noise\" class=\"view\"><h2>Noise analysis</h2>\n";
  if (!n.is_object()) {
    o << missing("No noise analysis.",
                 "kiln analyze-noise X.kar --json > noise.json, then --analysis noise.json.")
      << "</section>\n";
    return o.str();
  }
  const Json data = n.value("data", Json::object());
  o << "<p>Mode " << esc(str(n, "mode")) << ", " << esc(str(data, "samples")) << " sample(s) of "
    << esc(str(data, "path")) << ". Per layer: the output SNR when only that layer is quantized, "
    << "and the gain when it is lifted to 16 bits.</p>\n"
    << "<div id=\"noise-chart\" class=\"chart\"></div>\n<h3>Suggested lines</h3>\n";
  const Json sugg = n.value("suggestions", Json::array());
  if (sugg.empty()) {
    o << "<p>None.</p>\n";
  } else {
    o << "<table><thead><tr><th>script line</th><th>output</th><th>gain dB</th>"
         "<th>activation bytes</th><th>weight bytes</th><th>FPS before</th><th>FPS after</th>"
         "</tr></thead><tbody>\n";
    for (const Json& s : sugg)
      o << "<tr><td><code>" << esc(str(s, "line")) << "</code></td>" << td(str(s, "output"))
        << td(db(num(s, "gain_db"))) << td(formatBytes(int64_t(num(s, "activation_bytes"))))
        << td(formatBytes(int64_t(num(s, "weight_bytes"))))
        << td(fmt::format("{:.1f}", num(s, "fps_before")))
        << td(fmt::format("{:.1f}", num(s, "fps_after"))) << "</tr>\n";
    o << "</tbody></table>\n";
  }
  o << "</section>\n";
  return o.str();
}

std::string header(const Json& d) {
  const Json& model = d.at("model");
  std::ostringstream o;
  const std::string net = str(model, "net_name");
  o << "<header><h1>" << esc(net) << "</h1><p class=\"sub\">" << esc(str(d, "archive")) << " · "
    << model.at("layers").size() << " layers · " << count(num(model, "total_macs")) << " MACs";
  const Json& r = d.at("optimization");
  if (r.is_object())
    for (const Json& out : r.at("outputs"))
      o << " · " << esc(str(out, "output")) << " " << db(num(out, "snr_db")) << " dB";
  const Json& c = d.at("compilation");
  if (c.is_object())
    o << " · " << fmt::format("{:.1f}", num(c.at("plan").at("totals"), "fps")) << " FPS on "
      << esc(str(c.at("plan").at("arch"), "name"));
  o << " · Kiln " << esc(str(d, "tool_version")) << "</p>\n<nav>";
  for (const char* v : {"model", "optimization", "compilation", "runtime", "noise"}) {
    std::string title = v;
    title[0] = char(title[0] - 'a' + 'A');
    if (title == "Noise") title = "Noise analysis";
    o << "<a href=\"#" << v << "\">" << title << "</a>";
  }
  o << "</nav></header>\n";
  return o.str();
}

}  // namespace

std::string embeddedJson(const nlohmann::json& data) {
  const std::string text = jsonText(data);
  std::string out;
  out.reserve(text.size() + 64);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string reportHtml(const nlohmann::json& data, const std::string& graphSvg) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<meta name=\"generator\" content=\"kiln profiler " << esc(str(data, "tool_version"))
    << "\">\n<title>Kiln profile: " << esc(str(data.at("model"), "net_name")) << "</title>\n"
    << "<style>\n"
    << reportCss() << "</style>\n</head>\n<body>\n"
    << header(data) << "<main>\n"
    << modelView(data, graphSvg) << optimizationView(data) << compilationView(data)
    << runtimeView(data) << noiseView(data) << "</main>\n"
    << "<script type=\"application/json\" id=\"kiln-data\">" << embeddedJson(data)
    << "</script>\n<script>\n"
    << reportJs() << "</script>\n</body></html>\n";
  return o.str();
}

}  // namespace kiln::profiler
