// The ranked 16-bit suggestions of `kiln analyze-noise --mode advanced`: for each tensor, the
// script line that lifts it, the gain it brings at the output it helps most, and its cost
// (activation and weight bytes, the FPS the resource plan estimates on a target before and after).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/hwarch/hw_arch.h"
#include "compiler/optimize/noise_analysis.h"

namespace kiln::noise {

struct NoiseSuggestion {
  int layer = 0;
  std::string line;    // quantization_param(L, precision_mode=a8_w8_a16)
  std::string output;  // the output it helps most
  double gainDb = 0;   // at that output
  std::vector<std::pair<std::string, double>> gains;  // every output's gain
  int64_t activationBytes = 0, weightBytes = 0;       // extra bytes when lifted
  double fpsBefore = 0, fpsAfter = 0;
  nlohmann::json toJson() const;
};

/// Every layer's output bits when the layers `lift` are set to kLiftMode on top of the precisions
/// the graph has (quant::assignBits: a tensor gets the widest bits any reader asks for).
std::vector<int> bitsWithLifted(const Graph& g, const std::vector<int>& lift);

/// The same with any precision mode per layer (later entries for a layer win).
std::vector<int> bitsWithModes(const Graph& g,
                               const std::vector<std::pair<int, std::string>>& modes);

/// Activation bytes (every non-output layer's output at 1 or 2 bytes per element) for the given
/// bits per layer.
int64_t activationBytes(const Graph& g, const std::vector<int>& bits);

/// Fraction of activation bytes (every non-output layer's output at 1 or 2 bytes per element)
/// in 16 bits, for the given bits per layer.
double sixteenBitFraction(const Graph& g, const std::vector<int>& bits);

/// The `top` best suggestions (gain > 0.01 dB), best first; ties broken by fewer bytes, then by
/// layer order.
std::vector<NoiseSuggestion> rankSuggestions(const Graph& g, const optimize::NoiseAnalysis& r,
                                             const hwarch::HwArch& arch, size_t top);

/// The table printed on the terminal.
std::string suggestionTable(const std::vector<NoiseSuggestion>& list, const std::string& arch);

/// The precision mode a suggestion's line sets: the tensor (the layer's output) in 16 bits.
inline constexpr const char* kLiftMode = "a8_w8_a16";

/// The precision mode that lifts a layer whole: its input, weights and output in 16 bits (the
/// script language has no weights-only mode).
inline constexpr const char* kWholeMode = "a16_w16";

}  // namespace kiln::noise
