// The noise report of `kiln optimize`: SNR of every output and every layer (all layers
// quantized, measured at each layer) against the float network over calibration samples, flags
// for layers under 10 dB, and the "degenerate output" check (an output that barely changes across
// the calibration set, the failure users met with hand-picked 16-bit layers).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/emulator/float_executor.h"
#include "compiler/ir/graph.h"

namespace kiln::optimize {

struct NoiseReport {
  nlohmann::json json;
  std::vector<std::string> warnings;
  std::string summary;  // a few lines for the terminal
};

/// `samples[k]` holds one FloatBuffer per network input (user layout).
/// `progress` is called after each sample with (done, total).
NoiseReport noiseReport(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const std::function<void(int, int)>& progress = {});

}  // namespace kiln::optimize
