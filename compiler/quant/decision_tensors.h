// Decision tensors: the network's head, where the values a user decides with live (scores,
// probabilities, boxes). Range selection keeps their upper end and gives their positive side
// room (range_selection.h, RangeSearch::keepTop); the optimize report checks that their ranges
// keep the sign of their values. See docs/arithmetic.md §1.
#pragma once

#include <vector>

#include "compiler/ir/graph.h"

namespace kiln::quant {

/// Per layer: whether its output is a decision tensor, i.e. an output is reached from it through
/// layers without weights only (moves, concat, element-wise, standalone activations such as
/// sigmoid, softmax): the network outputs, the tensors feeding output activations, and the
/// outputs of the last weighted layers before them (a score head's logits).
std::vector<bool> decisionTensors(const Graph& g);

}  // namespace kiln::quant
