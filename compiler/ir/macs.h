// The work of one layer: multiply-accumulates of the layers that have them and element
// operations of the others, counted as the MAC kind column of layer_types.def says. `kiln info`,
// `kiln parser` and the resource plan all count with these.
#pragma once

#include <cstdint>

#include "compiler/ir/graph.h"

namespace kiln {

/// Multiply-accumulates of one run of layer `l` of graph `g` (0 for the types that do not
/// multiply-accumulate, see multipliesAccumulates). The kernel shape comes from the float
/// `kernel` parameter or, in an archive without it, the integer one.
int64_t layerMacs(const Graph& g, const Layer& l);

/// Element operations of one run of layer `l` of graph `g`, for the types that do not
/// multiply-accumulate (0 for the others and for MacKind::None): output elements times the
/// pooling window, input elements, or output elements, as the layer's MAC kind says.
int64_t layerElementOps(const Graph& g, const Layer& l);

}  // namespace kiln
