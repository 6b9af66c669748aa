// Cross-layer equalization (after Nagel et al., "Data-Free Quantization", 2019): for a layer A
// whose output feeds only layer B through a positively homogeneous activation (none, relu,
// leaky), scale A's output channel c by t_c and B's input channel c by 1/t_c. The float network
// is unchanged. Nagel balances weight ranges; with per-channel weights (what Kiln quantizes) A's
// weight ranges do not matter, so Kiln balances A's calibrated per-channel activation ranges,
// which share one per-tensor activation scale. Returns the number of layer pairs equalized.
#pragma once

#include "compiler/ir/graph.h"

namespace kiln::optimize {

/// `actAbsMax[layer][c]`
/// is the calibrated largest |value| of channel c of each layer's output. A may also be a
/// per-channel affine normalization layer. With B depthwise, A's output channels are all brought
/// to the same range (B's per-channel weights do not care); with B a full convolution,
/// t_c = sqrt(r_B(c) / r_act(c)) balances A's activation range against B's input-channel weight
/// range. One pass: pairs never share their A, so the statistics of the original graph stay valid.
int equalizeLayers(Graph& g, const std::vector<std::vector<double>>& actAbsMax);

}  // namespace kiln::optimize
