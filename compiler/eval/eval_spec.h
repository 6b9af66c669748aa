// What `kiln eval` evaluates and which quality gates (`expect:`) a build must pass: read from a
// network config's `eval:` and `expect:` sections (compiler/batch/eval_config.cpp), carried to a
// manifest's child process as JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/eval/metrics.h"

namespace kiln::eval {

enum class Kind { classes, scores, map, regress, sequence };
const char* kindName(Kind k);
const std::vector<std::string>& kindNames();

/// One output's decision kind and parameters.
struct OutputEval {
  std::string output;  // the ONNX output name (or Kiln's output layer name)
  Kind kind = Kind::scores;
  int axis = -1;      // classes: the class axis of one sample; scores: the softmax axis
  ScoresSpec scores;  // scores, and regress's `where` output
  MapSpec map;        // map
  std::string where;  // regress: the scores output whose float positives select values
  int64_t blank = 0;  // sequence: the CTC blank class
  std::string place;  // "FILE:LINE:COL" of its entry, for errors
};

enum class Bound { min, max };

/// One gate: `key` (a row of gates.def) bounds `metric` of `output` ("" = every output that has
/// that metric).
struct Gate {
  std::string key, metric, output;
  Bound bound = Bound::min;
  double value = 0;
  std::string place;
};

struct EvalSpec {
  std::string data;    // images directory, .npy or .npz (loaded as calibration sets are)
  int64_t size = 0;    // at most this many samples (0: all)
  std::string labels;  // optional .npy of class labels (classes outputs)
  std::vector<OutputEval> outputs;
  std::vector<Gate> gates;
  std::string place;  // where `eval:` was set
  bool empty() const { return data.empty() && gates.empty(); }
};

/// The gate keys of gates.def in order, their metrics and bounds.
struct GateKey {
  const char* key;
  const char* metric;
  Bound bound;
  const char* what;
};
const std::vector<GateKey>& gateKeys();

nlohmann::ordered_json specToJson(const EvalSpec& s);
EvalSpec specFromJson(const nlohmann::ordered_json& j);

}  // namespace kiln::eval
