// Calibration outliers: samples whose values lie far outside those of every other sample. One
// such sample (a stray 1e10 in a set of 0..255 images) would set a tensor's min/max range alone
// and leave every other sample a fraction of one quantization step. See docs/calibration.md,
// "Outliers".
#pragma once

#include <string>
#include <vector>

#include "compiler/quant/calibration_stats.h"

namespace kiln::quant {

/// The samples of one tensor that stand far above all the others.
struct OutlierSamples {
  std::vector<size_t> samples;  // indices into the calibration set, ascending; empty: none
  double outlierAbsMax = 0;     // the largest |value| among them
  double restAbsMax = 0;        // the largest |value| of every other sample
};

/// A sample is an outlier of a tensor when its largest |value| exceeds this many times the
/// largest |value| of every other sample: the other samples then use less than a tenth of the
/// grid. Warned for every tensor.
inline constexpr double kOutlierWarnFactor = 10;
/// Network inputs: samples this far above the rest are left out of calibration (warned).
inline constexpr double kOutlierDropFactor = 100;
/// Outliers are looked for only in sets of at least this many samples, and at most
/// max(1, samples / 16) of them (a handful; more is a heavy-tailed distribution, not a stray).
inline constexpr size_t kOutlierMinSamples = 8;

/// The handful of samples whose largest |value| (`absMax[s]`, finite values only) exceeds
/// `factor` times that of every other sample. Empty when there is none, when every other sample
/// is all zeros, or when the set is too small to tell.
OutlierSamples findOutliers(const std::vector<double>& absMax, double factor);

/// "sample 17" / "samples 3, 17" (0-based, in calibration-set order; at most 8 listed).
std::string sampleList(const std::vector<size_t>& samples);

/// Leaves out of `samples` ([sample][input]) those that are outliers of some network input at
/// kOutlierDropFactor, and returns one warning per input concerned, naming it, the samples and
/// the values. `inputNames` are the inputs' ONNX names, in the order of a sample's buffers.
std::vector<std::string> dropInputOutliers(std::vector<std::vector<FloatBuffer>>& samples,
                                           const std::vector<std::string>& inputNames);

/// Warnings for the tensors whose calibrated range is set by a handful of samples at
/// kOutlierWarnFactor (CalibStats::sampleAbsMax): one per group of tensors with the same
/// outlier samples, naming the first tensor, and at most 5 in all.
std::vector<std::string> rangeOutlierWarnings(const Graph& g, const CalibStats& stats);

}  // namespace kiln::quant
