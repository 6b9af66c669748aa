#include "compiler/profiler/graph_dot.h"

#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "compiler/profiler/colours.h"

namespace kiln::profiler {

namespace {

// A dot string literal (the names come from ONNX files: quotes and backslashes are escaped).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string typeText(const Layer& l) {
  std::string t = typeWord(l.type);
  if (l.activation.kind != ActKind::None) t += "+" + std::string(actName(l.activation.kind));
  return t;
}

}  // namespace

std::string layerNodeId(size_t index) {
  return "layer_" + std::to_string(index);
}

std::string graphDot(const Graph& g, const DotOptions& opts) {
  std::ostringstream o;
  o << "digraph " << quoted(g.name.empty() ? "network" : g.name) << " {\n"
    << "  rankdir=TB; nodesep=0.25; ranksep=0.3;\n"
    << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
       "height=0.3, margin=\"0.08,0.03\"];\n"
    << "  edge [arrowsize=0.5, color=\"#777777\"];\n";
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    std::string fill = precisionColour(l.precision);
    std::string snrText;
    const auto snr = opts.snrDb.find(l.name);
    if (snr != opts.snrDb.end()) {
      snrText = fmt::format("{:.1f} dB", snr->second);
      if (opts.colourBy == ColourBy::Snr) fill = snrColour(snr->second);
    } else if (opts.colourBy == ColourBy::Snr) {
      fill = "#ffffff";
    }
    std::string label = l.name + "\n" + typeText(l);
    if (!l.outputShapes.empty()) label += " " + shapeStr(l.outputShapes[0]);
    std::string tip = l.name + " (" + typeText(l) + ")";
    if (!l.precision.empty()) tip += ", " + l.precision;
    if (!snrText.empty()) tip += ", SNR " + snrText;
    const bool io = l.type == LayerType::InputLayer || l.type == LayerType::OutputLayer;
    o << "  " << quoted(layerNodeId(i)) << " [label=" << quoted(label)
      << ", id=" << quoted(layerNodeId(i)) << ", class=\"layer\", fillcolor=" << quoted(fill)
      << ", tooltip=" << quoted(tip) << (io ? ", shape=box, style=\"filled\", penwidth=2" : "")
      << "];\n";
  }
  for (size_t i = 0; i < g.layers.size(); ++i)
    for (const ValueRef& v : g.layers[i].inputs)
      o << "  " << quoted(layerNodeId(size_t(v.layer))) << " -> " << quoted(layerNodeId(i))
        << ";\n";
  o << "}\n";
  return o.str();
}

std::map<std::string, double> reportSnr(const Archive& a) {
  std::map<std::string, double> snr;
  const auto it = a.extra.find("optimize/report.json");
  if (it == a.extra.end()) return snr;
  const auto j = nlohmann::json::parse(it->second.begin(), it->second.end());
  for (const auto& l : j.at("layers"))
    if (l.contains("snr_db") && l.at("snr_db").is_number())
      snr[l.at("layer").get<std::string>()] = l.at("snr_db").get<double>();
  return snr;
}

}  // namespace kiln::profiler
