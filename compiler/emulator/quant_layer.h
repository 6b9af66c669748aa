// One layer of the quantized emulation: builds the runtime kernel's params from the layer's
// integer parameters (qparams) and runs the kernel.
#pragma once

#include "emulator/quant_executor.h"

namespace kiln {

void runQuantLayer(const Graph& g, const Layer& l, const std::vector<const IntBuffer*>& in,
                   IntBuffer& out);

}  // namespace kiln
