// Smoothed decision figures for the mixed-precision search (`kiln optimize --target-gates`).
//
// A gate's figure counts decisions (F1 of positives, IoU of a thresholded map), so on a few
// held-out images it moves in steps: lifting one tensor flips a decision or it does not, and
// most lifts read as "no change" although they move every decision's margin. The search ranks
// its candidates by a smoothed figure instead: every test decision is replaced by the
// probability that it is positive when its distance to the threshold is blurred by the current
// build's error (below). The float reference keeps
// hard decisions. Then soft F1 = 2 sum(y p) / (sum y + sum p): equal to the counted F1 when every
// margin is large against tau, and it grows as a lift pushes the test values toward the
// reference's side of the threshold.
//
// p is a smoothstep of z = (t - thr) / tau over |z| < 2 (softDecision), not a logistic: values
// farther than 2 tau from the threshold are plain decisions, so the many background values of a
// map (a peak map's zeros, 0.1 below its threshold) add nothing. tau is 1.4826 x the median
// absolute error at the decisions (elements either side calls positive): robust to the decisions
// that flip, whose error in a masked output is the whole value.
//
// Kinds: `scores` (sigmoid scores compared in logit units, plain ones as they are; softmax and
// top_k are not smoothed) and `map` (the pixel F1 of the thresholded map). Other kinds and
// outputs without an eval entry have no smoothed figure.
#pragma once

#include <string>
#include <vector>

#include "compiler/emulator/float_kernels/float_buffer.h"
#include "compiler/eval/eval_spec.h"

namespace kiln::noise {

/// Per output (in network output order): the smoothing scale tau, or 0 for outputs that have
/// no smoothed figure.
struct SoftScales {
  std::vector<double> tau;
};

/// Measures tau per output: accumulate the current build's outputs, then scales().
class SoftScaleMeter {
 public:
  SoftScaleMeter(const eval::EvalSpec& spec, const std::vector<std::string>& names,
                 const std::vector<std::string>& kilnNames);
  void add(const std::vector<const FloatBuffer*>& ref, const std::vector<const FloatBuffer*>& test);
  SoftScales scales() const;

 private:
  std::vector<const eval::OutputEval*> e_;
  std::vector<std::vector<double>> err_;  // per output: |test - float| at the decisions
};

/// Soft F1 per output over many samples, for one build (or one lift run).
class SoftTally {
 public:
  SoftTally(const eval::EvalSpec& spec, const std::vector<std::string>& names,
            const std::vector<std::string>& kilnNames, SoftScales s);
  void add(const std::vector<const FloatBuffer*>& ref, const std::vector<const FloatBuffer*>& test);
  /// The soft F1 of output k (NaN when it has none).
  double f1(size_t k) const;

 private:
  std::vector<const eval::OutputEval*> e_;
  SoftScales s_;
  std::vector<double> yp_, y_, p_;
};

/// The soft decision of a value z scales above the threshold: 0 below -2, 1 above 2, smooth
/// (3u^2 - 2u^3, u = z/4 + 1/2) between.
double softDecision(double z);

/// The eval entry of each network output (nullptr when the spec has none), matched by ONNX name
/// or Kiln name as eval::Tally matches them.
std::vector<const eval::OutputEval*> evalEntries(const eval::EvalSpec& spec,
                                                 const std::vector<std::string>& names,
                                                 const std::vector<std::string>& kilnNames);

}  // namespace kiln::noise
