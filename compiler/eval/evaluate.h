// `kiln eval`: runs an optimized network's float reference and its test builds (the quantized
// emulation, the compiled .kef) on an evaluation set and computes each output's task metrics
// against float (and labels), then checks the `expect:` gates.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/eval/eval_spec.h"
#include "compiler/ir/graph.h"

namespace kiln::eval {

/// The targets a test build can be: the quantized emulation and the compiled executable. The
/// float reference ("native": the optimized archive's float network, with the model script's
/// normalization, so it takes the same raw inputs) always runs.
const std::vector<std::string>& targetNames();

struct OutputMetrics {
  std::string output, kind;                             // kind: "" for an output without a kind
  std::vector<std::pair<std::string, double>> figures;  // name -> value, in a fixed order
  const double* get(const std::string& name) const;
};

struct TargetMetrics {
  std::string target;
  std::vector<OutputMetrics> outputs;
};

struct GateResult {
  Gate gate;
  std::string target, output;
  double figure = 0;
  bool passed = false;
  std::string message;  // "min_f1 0.95: Identity:0 on quantized has f1 0.912 (FILE:LINE:COL)"
};

struct EvalResult {
  std::string network, data;
  int64_t samples = 0;
  std::vector<TargetMetrics> targets;  // float's own figures against labels first, when any
  std::vector<GateResult> gates;
  bool passed() const;
  nlohmann::ordered_json toJson() const;
  std::string table() const;  // for a terminal
};

struct EvalOptions {
  std::vector<std::string> targets = {"quantized"};  // of targetNames()
  std::string kefPath;                               // for the kef target
  std::function<void(int, int)> progress;            // samples done of total
};

/// Loads spec.data for the graph's inputs, runs the targets, computes the metrics and checks
/// the gates. Errors name the config entry (OutputEval::place) or the data file.
EvalResult evaluate(const Graph& optimized, const EvalSpec& spec, const EvalOptions& o);

/// Gates on figures alone (a manifest run without an evaluation set: the noise report's SNRs).
std::vector<GateResult> checkGates(const std::vector<Gate>& gates,
                                   const std::vector<TargetMetrics>& targets);

}  // namespace kiln::eval
