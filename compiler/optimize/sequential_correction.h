// The corrections made layer by layer on the quantized network, each layer seeing the quantized
// (and already corrected) outputs of the layers before it:
// - error-compensating weight rounding (optimization level >= 2, error_rounding.h);
// - empirical bias correction (Nagel et al. 2019, "empirical" variant): the mean error of each
//   linear layer's quantized output, measured against the float network, is removed from its bias.
//   A score head's logits are measured in their decision zone only (CorrectionOptions::zoneFloor).
#pragma once

#include <utility>
#include <vector>

#include "compiler/emulator/float_executor.h"

namespace kiln::optimize {

struct CorrectionOptions {
  bool biasCorrection = true;       // conv/dw/deconv/fc layers without a table activation
  bool compensateRounding = false;  // conv and dw weights
  /// Per layer (empty: none): the lower end of its output's decision zone, or -inf. A score
  /// head's logits are decided near 0, while most of its outputs are far-negative background
  /// whose error differs; a mean over all of them leaves the logits that decide shifted. Such a
  /// layer's bias correction is measured where the float output is >= this floor (channels with
  /// too few such positions fall back to the mean over all positions).
  std::vector<double> zoneFloor;
};

/// The decision zones of `zoneFloor`: for a decision tensor whose calibrated range has both signs
/// and a negative side longer than its positive side (a score head's logits: few positives, many
/// far negatives), [-max, +inf), the positive side mirrored; -inf (no zone) for every other layer.
std::vector<double> decisionZoneFloors(const std::vector<bool>& decision,
                                       const std::vector<std::pair<double, double>>& calibrated);

struct CorrectionResult {
  int biasCorrected = 0;  // layers whose biases changed
  int zoneCorrected = 0;  // ... of them, measured in a decision zone
  int rounded = 0;        // layers whose weights were rounded against their inputs
  double nearestError = 0, chosenError = 0;  // their summed rounding error energies
};

/// Runs the corrections on a prepared graph, in topological order, on `samples`.
CorrectionResult sequentialCorrection(Graph& g,
                                      const std::vector<std::vector<FloatBuffer>>& samples,
                                      const CorrectionOptions& opts);

}  // namespace kiln::optimize
