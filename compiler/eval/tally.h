// Task figures accumulated one sample at a time: the figures `evaluate` computes over a whole
// evaluation set, for many variants of a network at once without keeping their outputs. The
// mixed-precision search (`kiln optimize --target-gates`) scores every tensor it could lift to
// 16 bits by the config's gates this way, one tally per candidate.
#pragma once

#include <string>
#include <vector>

#include "compiler/emulator/float_kernels/float_buffer.h"
#include "compiler/eval/evaluate.h"

namespace kiln::eval {

class Tally {
 public:
  /// `names`: the network's output names in output order (ONNX names, or Kiln's output layer
  /// names, as evaluate() matches them); `kilnNames` the Kiln names (may be empty). spec.labels
  /// is loaded when set. Errors name the config entry as evaluate() does.
  Tally(const EvalSpec& spec, const std::vector<std::string>& names,
        const std::vector<std::string>& kilnNames = {});

  /// One sample: float's outputs and the test build's, in output order (user layout, batch 1).
  void add(const std::vector<const FloatBuffer*>& ref, const std::vector<const FloatBuffer*>& test);

  int64_t samples() const { return samples_; }

  /// The figures of every output so far, named and ordered as evaluate() names them.
  TargetMetrics figures(const std::string& target) const;

 private:
  // One output's running counts (the ones of its kind are used).
  struct Acc {
    const OutputEval* e = nullptr;
    size_t where = 0;                                         // regress: index of its scores output
    int64_t decisions = 0, agree = 0, okTest = 0, okRef = 0;  // classes
    int64_t refPos = 0, testPos = 0, both = 0;                // scores
    int64_t topRef = 0, topTest = 0, topBoth = 0;             // scores, top_k
    int64_t inter = 0, uni = 0, refBoxes = 0, testBoxes = 0, matched = 0;  // map
    std::vector<double> err;  // regress: every compared absolute error
    int64_t sequences = 0, exact = 0, edits = 0, length = 0;  // sequence
    double signal = 0, noise = 0;                             // snr_db
  };
  std::vector<std::string> names_;
  std::vector<Acc> acc_;
  std::vector<int64_t> labels_;
  int64_t samples_ = 0, labelAt_ = 0;
};

}  // namespace kiln::eval
