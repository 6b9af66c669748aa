// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019): for a layer A whose
// output feeds only layer B through a positively homogeneous activation (none, relu, leaky,
// prelu), scale A's output channel c by 1/s_c and B's input channel c by s_c, with
// s_c = sqrt(r_A(c) / r_B(c)) (r = the channel's largest absolute weight). The float network is
// unchanged; per-channel weight ranges become equal, which helps per-tensor activation
// quantization. Returns the number of layer pairs equalized.
#pragma once

#include "ir/graph.h"

namespace kiln::opt {

int equalizeLayers(Graph& g, int iterations = 3);

}  // namespace kiln::opt
