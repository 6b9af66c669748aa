// fuse_hardswish: x * HardSigmoid(x; alpha=1/6, beta=0.5) -> activation hardswish (PaddlePaddle
// and some tf2onnx exports spell HardSwish this way).
// fuse_silu: x * Sigmoid(x) -> activation silu.
// Both leave the multiplication alone when the gate has other readers.
#include <cmath>

#include "passes/pipeline.h"

namespace kiln::passes {

namespace {

// For ew_mult layer m, finds an input that is an activation of kind k applied to m's other input.
bool matchGate(Graph& g, int m, ActKind k, double alpha, double beta, int& gate, ValueRef& x) {
  const Layer& mult = g.at(m);
  if (mult.type != LayerType::EwMult || mult.activation.kind != ActKind::None) return false;
  for (int side = 0; side < 2; ++side) {
    const ValueRef a = mult.inputs[side], other = mult.inputs[1 - side];
    const Layer& act = g.at(a.layer);
    if (act.type != LayerType::Activation || act.activation.kind != k || act.inputs[0] != other)
      continue;
    if (k == ActKind::HardSigmoid &&
        (std::fabs(act.activation.alpha - alpha) > 1e-6 || std::fabs(act.activation.beta - beta) > 1e-6))
      continue;
    if (singleConsumer(g, a) != m) continue;
    if (g.shapeOf(a) != mult.outputShapes[0] || g.shapeOf(other) != mult.outputShapes[0]) continue;
    gate = a.layer;
    x = other;
    return true;
  }
  return false;
}

void fuseGate(Graph& g, ActKind gateKind, ActKind fused, double alpha, double beta) {
  for (size_t m = 0; m < g.layers.size(); ++m) {
    int gate;
    ValueRef x;
    if (g.at(m).dead || !matchGate(g, int(m), gateKind, alpha, beta, gate, x)) continue;
    Layer& mult = g.at(m);
    mult.type = LayerType::Activation;
    mult.inputs = {x};
    // The gate's own parameters stay: HardSigmoid(alpha, beta) * x keeps alpha and beta.
    mult.activation = Activation{fused, g.at(gate).activation.alpha, g.at(gate).activation.beta};
    for (const auto& n : g.at(gate).originalNames) mult.originalNames.insert(mult.originalNames.begin(), n);
    g.at(gate).dead = true;
  }
}

}  // namespace

void fuseHardSwish(Graph& g) { fuseGate(g, ActKind::HardSigmoid, ActKind::HardSwish, 1.0 / 6, 0.5); }
void fuseSilu(Graph& g) { fuseGate(g, ActKind::Sigmoid, ActKind::Silu, 0, 0); }

}  // namespace kiln::passes
