// One quantized layer run alone on integer inputs (the optimizer measures layers one at a time),
// through the runtime's executor like the whole network.
#pragma once

#include "emulator/quant_executor.h"

namespace kiln {

void runQuantLayer(const Graph& g, const Layer& l, const std::vector<const IntBuffer*>& in,
                   IntBuffer& out);

}  // namespace kiln
