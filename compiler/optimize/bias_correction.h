// Empirical bias correction (Nagel et al. 2019, "empirical" variant): the mean error of each
// linear layer's quantized output, measured against the float network, is removed from its bias.
#pragma once

#include <vector>

#include "emulator/float_executor.h"

namespace kiln::opt {

/// Corrects the integer biases of a prepared graph's conv/dw/deconv/fc layers without a table
/// activation, layer by layer in topological order (each layer measured with its predecessors
/// already corrected), on `samples`. Returns the number of layers corrected.
int empiricalBiasCorrection(Graph& g, const std::vector<std::vector<FloatBuffer>>& samples);

}  // namespace kiln::opt
