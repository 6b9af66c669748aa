// The corrections made layer by layer on the quantized network, each layer seeing the quantized
// (and already corrected) outputs of the layers before it:
// - error-compensating weight rounding (optimization level >= 2, error_rounding.h);
// - empirical bias correction (Nagel et al. 2019, "empirical" variant): the mean error of each
//   linear layer's quantized output, measured against the float network, is removed from its bias.
#pragma once

#include <vector>

#include "compiler/emulator/float_executor.h"

namespace kiln::optimize {

struct CorrectionOptions {
  bool biasCorrection = true;       // conv/dw/deconv/fc layers without a table activation
  bool compensateRounding = false;  // conv and dw weights
};

struct CorrectionResult {
  int biasCorrected = 0;  // layers whose biases changed
  int rounded = 0;        // layers whose weights were rounded against their inputs
  double nearestError = 0, chosenError = 0;  // their summed rounding error energies
};

/// Runs the corrections on a prepared graph, in topological order, on `samples`.
CorrectionResult sequentialCorrection(Graph& g,
                                      const std::vector<std::vector<FloatBuffer>>& samples,
                                      const CorrectionOptions& opts);

}  // namespace kiln::optimize
