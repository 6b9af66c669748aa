// kiln info FILE.kar: the layers of an archive as a table (or JSON for scripts).
#include <fmt/core.h>

#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/cli/commands.h"
#include "compiler/ir/macs.h"
#include "compiler/profiler/model_json.h"

namespace kiln::cli {

namespace {

std::string inputShapes(const Graph& g, const Layer& l) {
  if (l.type == LayerType::InputLayer) return shapeStr(l.attrInts("user_shape"));
  std::vector<std::string> s;
  for (const ValueRef& v : l.inputs) s.push_back(shapeStr(g.shapeOf(v)));
  return join(s, " ");
}

std::string outputShapes(const Layer& l) {
  std::vector<std::string> s;
  for (const Shape& o : l.outputShapes) s.push_back(shapeStr(o));
  return join(s, " ");
}

std::string precisionText(const Layer& l) {
  if (l.outputQuant.empty()) return "";
  const QuantInfo& q = l.outputQuant[0];
  std::string s = l.precision.empty() ? "u" + std::to_string(q.bits) : l.precision;
  // The tensor may be wider than the layer's mode asks when a 16-bit consumer reads it.
  if (q.bits == 16 && s.find("a16") == std::string::npos) s += ", out 16-bit";
  if (!l.precisionSource.empty() && l.precisionSource != "default")
    s += " (" + l.precisionSource + ")";
  return s;
}

std::string typeText(const Layer& l) {
  std::string t = typeWord(l.type);
  if (l.activation.kind != ActKind::None) t += "+" + std::string(actName(l.activation.kind));
  return t;
}

void printInfo(const Archive& a, bool asJson) {
  const Graph& g = a.graph;
  int64_t totalParams = 0, totalMacs = 0;
  if (asJson) {
    fmt::print("{}\n", jsonText(profiler::modelJson(a), 2));
    return;
  }
  fmt::print("Network {}  (Kiln {}, stages: {}, graph {})\n\n", g.name, a.toolVersion,
             join(a.stages, ", "), a.graphHash.substr(0, 12));
  const bool quantized = !g.layers.empty() && !g.layers[0].outputQuant.empty();
  fmt::print("{:<20} {:<22} {:<28} {:<22} {:<22} {:>10} {:>12}{}\n", "layer", "type", "ONNX names",
             "input shapes", "output shapes", "params", "MACs", quantized ? "  precision" : "");
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    std::string names = join(l.originalNames, ",");
    if (names.size() > 28) names = names.substr(0, 25) + "...";
    fmt::print("{:<20} {:<22} {:<28} {:<22} {:<22} {:>10} {:>12}{}\n", l.name, typeText(l), names,
               inputShapes(g, l), outputShapes(l), g.paramCount(int(i)), layerMacs(g, l),
               quantized ? "  " + precisionText(l) : "");
    totalParams += g.paramCount(int(i));
    totalMacs += layerMacs(g, l);
  }
  std::map<std::string, int> counts;
  for (const Layer& l : g.layers) ++counts[typeWord(l.type)];
  std::vector<std::string> parts;
  for (const auto& [t, n] : counts) parts.push_back(fmt::format("{} {}", n, t));
  fmt::print("\nTotal: {} layers ({}), {} parameters ({:.2f} MB as float32), {:.2f} M MACs\n",
             g.layers.size(), join(parts, ", "), totalParams, double(totalParams) * 4 / 1e6,
             double(totalMacs) / 1e6);
}

}  // namespace

void addInfoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show the layers of a Kiln archive (.kar)");
  auto path = std::make_shared<std::string>();
  auto asJson = std::make_shared<bool>(false);
  cmd->add_option("archive", *path, "The .kar file")->required();
  cmd->add_flag("--json", *asJson, "Print JSON instead of a table");
  cmd->callback([path, asJson]() { printInfo(readArchive(*path), *asJson); });
}

}  // namespace kiln::cli
