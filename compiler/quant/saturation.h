// Saturation bounds: the part of a tensor's range that can change what its consumers output.
// A tensor read only by saturating activations (sigmoid, tanh, hardsigmoid, relu, relu6, clip),
// directly or through layers that keep its quantization, needs no resolution where those
// activations' quantized outputs no longer change: every value below the point where sigmoid's
// output rounds to its lowest level reads the same downstream. See docs/arithmetic.md §1.
#pragma once

#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/quant/calibration_stats.h"

namespace kiln::quant {

/// Per layer output, the interval outside which every value quantizes, at the output of each
/// activation reading it, to that activation's lowest (below) or highest (above) level; an
/// invalid Range when the output has another reader (a weighted layer, a network output, ...)
/// or no such activation. Only sides where the activation saturates are bounded (±infinity
/// otherwise), within the layer's `calibrated` range. `ranges` and `bits` are each layer's final
/// output range and bits: the activations' output grids decide where they saturate.
std::vector<Range> saturationBounds(const Graph& g, const std::vector<Range>& calibrated,
                                    const std::vector<Range>& ranges, const std::vector<int>& bits);

}  // namespace kiln::quant
