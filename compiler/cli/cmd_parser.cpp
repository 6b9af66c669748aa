// kiln parser onnx MODEL.onnx: ONNX -> Kiln archive.
#include <fmt/core.h>

#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/ir/macs.h"
#include "compiler/onnx/importer.h"

namespace kiln::cli {

namespace {
struct ParserArgs {
  std::string model, netName, karPath;
  std::vector<std::string> start, end, shapes;
  bool yes = false;
};
}  // namespace

void addParserCommand(CLI::App& app) {
  auto* parser = app.add_subcommand("parser", "Translate a model into a Kiln archive (.kar)");
  parser->require_subcommand(1);
  auto args = std::make_shared<ParserArgs>();
  auto* onnx = parser->add_subcommand(
      "onnx",
      "Parse an ONNX model (opsets 9-18): fold constants, map nodes to Kiln layers, write a .kar");
  onnx->add_option("model", args->model, "The .onnx file")->required();
  onnx->add_option("--net-name", args->netName, "Network name (default: the file name's stem)");
  onnx->add_option(
          "--har-path,--kar-path", args->karPath,
          "Output archive (default: <net-name>.kar); --har-path is the reference's spelling")
      ->check(nonEmptyPath());
  onnx->add_option("--start-node-names", args->start,
                   "ONNX node names where the network starts; their inputs become inputs");
  onnx->add_option("--end-node-names", args->end,
                   "ONNX node names where the network ends; their outputs become outputs");
  onnx->add_option("--tensor-shapes", args->shapes,
                   "Fix dynamic input dimensions: NAME=[d0,d1,...] (repeatable)");
  onnx->add_flag("-y,--yes", args->yes,
                 "Apply the suggested --end-node-names when the model has unsupported operators");
  onnx->callback([args]() {
    onnx::ImportOptions o;
    o.netName = args->netName;
    if (!o.netName.empty()) o.netNameField = "--net-name";
    o.startNodes = args->start;
    o.endNodes = args->end;
    o.acceptSuggestedCuts = args->yes;
    for (const auto& s : args->shapes) o.tensorShapes.insert(onnx::parseTensorShapeArg(s));
    onnx::ImportReport report;
    Archive a;
    a.graph = onnx::importFile(args->model, o, &report);
    a.stages = {"parse"};
    for (const auto& n : report.notes) fmt::print(stderr, "kiln: note: {}\n", n);
    const std::string out = args->karPath.empty() ? a.graph.name + ".kar" : args->karPath;
    writeArchive(out, a);
    int64_t params = 0, macs = 0;
    for (size_t i = 0; i < a.graph.layers.size(); ++i) {
      params = checkedAdd(params, a.graph.paramCount(int(i)), "the network's parameter count");
      macs = checkedAdd(macs, layerMacs(a.graph, a.graph.layers[i]), "the network's MAC count");
    }
    fmt::print("Parsed {}: {} ONNX nodes ({} folded as constants) -> {} Kiln layers\n", args->model,
               report.onnxNodes, report.foldedNodes, a.graph.layers.size());
    for (int id : a.graph.inputLayers()) {
      const Layer& l = a.graph.at(id);
      fmt::print("  input  {:<16} {} {}\n", l.attrString("onnx_name"),
                 shapeStr(l.attrInts("user_shape")),
                 l.hasAttr("perm") ? "(transposed on input)" : "");
    }
    for (int id : a.graph.outputLayers()) {
      const Layer& l = a.graph.at(id);
      fmt::print("  output {:<16} {}\n", l.attrString("onnx_name"), shapeStr(l.outputShapes[0]));
    }
    fmt::print("  {:.2f} M parameters, {:.2f} M MACs\nWrote {}\n", double(params) / 1e6,
               double(macs) / 1e6, out);
  });
}

}  // namespace kiln::cli
