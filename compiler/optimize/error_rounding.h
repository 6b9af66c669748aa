// Error-compensating weight rounding (GPTQ, Frantar et al. 2023, the optimal-brain-quantization
// update of Hassibi & Stork): a layer's weights are rounded one input at a time, and the output
// error each rounding makes on the calibration inputs is pushed onto the weights not yet rounded.
// Rounding to nearest treats the inputs as uncorrelated; real feature maps are not (a smooth image
// under a 3x3 filter), and this update uses their measured correlation instead.
#pragma once

#include <vector>

#include "compiler/emulator/quant_executor.h"
#include "compiler/ir/graph.h"

namespace kiln::optimize {

struct RoundingResult {
  bool applied = false;
  double nearestError = 0;  // sum over channels of e^T H e with e the weight rounding error,
  double chosenError = 0;   // for rounding to nearest and for the chosen rounding
};

/// Re-rounds the integer kernel of a prepared conv or depthwise layer (same per-channel scales and
/// clamp) to minimise its output error on `inputs`, the layer's quantized input on the calibration
/// samples, as the quantized network computes it. Layers with fewer sampled input positions than
/// 2x the inputs of one output are left alone (the correlation would be over-fitted).
RoundingResult compensateRounding(Layer& l, const QuantInfo& in,
                                  const std::vector<const IntBuffer*>& inputs);

}  // namespace kiln::optimize
