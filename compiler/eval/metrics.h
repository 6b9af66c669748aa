// Task-level metrics of `kiln eval` (issue 10): decisions a network's outputs make, compared
// between a test build (quantized emulation, .kef) and the float reference, and against labels
// when the evaluation set has them. No model-specific code: each output declares a decision
// kind (classes, scores, map, regress, sequence) and its parameters.
//
// Every array holds N samples: shape[0] is the sample count, the rest one sample's output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::eval {

struct Array {
  std::vector<int64_t> shape;  // [N, ...]
  std::vector<float> data;     // row-major
  int64_t samples() const { return shape.empty() ? 0 : shape[0]; }
};

// Agreement (and accuracy when labels are given) of argmax over `axis` (of one sample's dims,
// negative counts from the end). Every other position of a sample is one decision.
struct ClassesResult {
  int64_t decisions = 0;
  double agreement = 0;               // test argmax == float argmax
  std::optional<double> accuracy;     // test argmax == label
  std::optional<double> refAccuracy;  // float argmax == label
};
ClassesResult evalClasses(const Array& ref, const Array& test, int axis,
                          const std::vector<int64_t>* labels = nullptr);

enum class Activation { none, sigmoid, softmax };
Activation activationFromName(const std::string& name);  // "none", "sigmoid", "softmax"

// Positives: activated value >= threshold. F1 of the test positives against the float ones;
// with topK > 0 also the F1 of each sample's top-k positions (ties broken by position).
struct ScoresSpec {
  Activation activation = Activation::none;
  int axis = -1;  // the softmax axis
  double threshold = 0.5;
  int64_t topK = 0;
};
struct ScoresResult {
  int64_t refPositives = 0, testPositives = 0, both = 0;
  double f1 = 0;
  std::optional<double> topKF1;
};
ScoresResult evalScores(const Array& ref, const Array& test, const ScoresSpec& spec);
// The float reference's positives of a scores output, one flag per element (for regress).
std::vector<char> positives(const Array& ref, const ScoresSpec& spec);

// A probability map over the last two dims ([N, ..., H, W], or [N, H, W, 1]: trailing dims of 1
// are dropped): thresholded, the IoU of the two masks, and its
// 8-connected components as boxes matched one-to-one at IoU >= 0.5.
struct MapSpec {
  double threshold = 0.5;
  int64_t minArea = 1;  // smaller components are ignored
};
struct MapResult {
  double iou = 0;
  int64_t intersection = 0, unionArea = 0;  // of the masks, in pixels: iou's terms
  int64_t refBoxes = 0, testBoxes = 0, matched = 0;
  double boxF1 = 0;
};
MapResult evalMap(const Array& ref, const Array& test, const MapSpec& spec);

// Absolute error where `mask` (one flag per group of regress values) is set: the regress
// output's elements are split into mask.size() equal consecutive groups (e.g. boxes [N,A,16]
// under scores [N,A,1]). An empty mask compares every element.
struct RegressResult {
  int64_t compared = 0;
  double maxAbs = 0, medianAbs = 0;
};
RegressResult evalRegress(const Array& ref, const Array& test, const std::vector<char>& mask);

// Greedy CTC over [N, T, C] (classes last): argmax per step, repeats merged, blanks dropped.
// Exact match and character error rate (edit distance / reference length) of the test
// sequences against float's, and against label sequences when given.
struct SequenceResult {
  int64_t sequences = 0;
  double exactMatch = 0, cer = 0;
};
std::vector<std::vector<int64_t>> ctcGreedy(const Array& a, int64_t blank);
SequenceResult compareSequences(const std::vector<std::vector<int64_t>>& ref,
                                const std::vector<std::vector<int64_t>>& test);
SequenceResult evalSequence(const Array& ref, const Array& test, int64_t blank);
int64_t editDistance(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Output SNR in dB of test against ref (10 log10 of signal power over error power); +inf when
// equal.
double snrDb(const Array& ref, const Array& test);

}  // namespace kiln::eval
