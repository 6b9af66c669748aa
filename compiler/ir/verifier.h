// The IR verifier: structural checks of a graph, run after every pass in tests and when an
// archive is read.
#pragma once

#include "compiler/ir/graph.h"

namespace kiln {

/// Checks structural invariants: no dead layers, input counts within the type's limits, inputs
/// that exist and come earlier (topological order), ports in range, stored shapes equal to
/// shape inference's, a bias per output channel on layers with weights, parameter sizes, PRelu
/// slopes. Throws Error "IR verifier: layer <name> (<type>): <what is wrong>" at the first
/// violation.
void verify(const Graph& g);

}  // namespace kiln
