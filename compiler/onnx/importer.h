// ONNX -> Kiln IR. The entry point of `kiln parser onnx`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace onnx {
class ModelProto;
}

namespace kiln::onnx {

struct ImportOptions {
  std::string netName;                        // default: the file's stem
  std::string netNameField;                   // where netName came from, for errors ("--net-name")
  std::vector<std::string> startNodes;        // ONNX node names where the graph starts
  std::vector<std::string> endNodes;          // ONNX node names whose outputs become outputs
  std::map<std::string, Shape> tensorShapes;  // fixed shapes for inputs with dynamic dims
  bool acceptSuggestedCuts = false;           // -y: apply the suggested --end-node-names
  // false: return the graph as translated, before the import passes (the pass tests then run
  // passes::runPassesUntil and passes::runPass on it).
  bool runImportPasses = true;
};

/// What the import did that the user should hear about (cuts applied, nodes removed).
struct ImportReport {
  std::vector<std::string> notes;
  int onnxNodes = 0;
  int foldedNodes = 0;
  std::vector<std::string> appliedEndNodes;
};

/// Loads and validates an ONNX file: existence, protobuf, checker, external data. Throws Error
/// with a one-paragraph message naming the file and the problem.
::onnx::ModelProto loadModel(const std::string& path);

/// Imports a loaded model; `baseDir` resolves external data. Runs the import passes (activation
/// fusion, BN folding, pattern rewrites) and names the layers, unless `opts.runImportPasses` is
/// false.
Graph importModel(const ::onnx::ModelProto& model, const std::string& baseDir,
                  const ImportOptions& opts, ImportReport* report = nullptr);

/// loadModel + importModel.
Graph importFile(const std::string& path, const ImportOptions& opts,
                 ImportReport* report = nullptr);

/// The ONNX operator types Kiln imports (sorted).
std::vector<std::string> supportedOps();
/// True when Kiln needs input `index` of `opType` to be a constant (weights, shapes, axes…).
bool requiresConstantInput(const std::string& opType, int index);

/// Parses `NAME=[d0,d1,…]` (a --tensor-shapes argument).
std::pair<std::string, Shape> parseTensorShapeArg(const std::string& arg);

}  // namespace kiln::onnx
