// fuse_hardswish: x * HardSigmoid(x; alpha=1/6, beta=0.5) -> activation hardswish (PaddlePaddle
// and some tf2onnx exports spell HardSwish this way).
// fuse_silu: x * Sigmoid(x) -> activation silu.
// Both leave the multiplication alone when the gate has other readers.
#include <cmath>

#include "compiler/passes/pipeline.h"

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
    if (k == ActKind::HardSigmoid && (std::fabs(act.activation.alpha - alpha) > 1e-6 ||
                                      std::fabs(act.activation.beta - beta) > 1e-6))
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
    for (const auto& n : g.at(gate).originalNames)
      mult.originalNames.insert(mult.originalNames.begin(), n);
    g.at(gate).dead = true;
  }
}

}  // namespace

namespace {

// A scalar constant operand of an element-wise layer: the other input and the value.
bool scalarOperand(const Graph& g, const Layer& l, LayerType t, ValueRef& other, float& value) {
  if (l.type != t || l.activation.kind != ActKind::None) return false;
  for (int side = 0; side < 2; ++side) {
    const Layer& c = g.at(l.inputs[side].layer);
    if (c.type == LayerType::ConstInput && c.param("value").numel() == 1) {
      if (t == LayerType::EwDiv && side == 0) return false;  // c / x
      other = l.inputs[1 - side];
      value = c.param("value").data[0];
      return true;
    }
  }
  return false;
}

// `r` is relu6(a + 3) [/ 6]: returns a and whether the /6 was inside.
bool hardSigmoidBody(const Graph& g, ValueRef r, ValueRef& a, bool& divided,
                     std::vector<int>& chain) {
  ValueRef cur = r;
  float v = 0;
  divided = false;
  ValueRef inner;
  const Layer& top = g.at(cur.layer);
  if (scalarOperand(g, top, LayerType::EwDiv, inner, v) && std::fabs(v - 6.f) < 1e-6f) {
    divided = true;
    chain.push_back(cur.layer);
    cur = inner;
  } else if (scalarOperand(g, top, LayerType::EwMult, inner, v) && std::fabs(v - 1.f / 6) < 1e-6f) {
    divided = true;
    chain.push_back(cur.layer);
    cur = inner;
  }
  const Layer& act = g.at(cur.layer);
  if (act.type != LayerType::Activation || act.activation.kind != ActKind::Relu6) return false;
  chain.push_back(cur.layer);
  if (!scalarOperand(g, g.at(act.inputs[0].layer), LayerType::EwAdd, a, v) ||
      std::fabs(v - 3.f) > 1e-6f)
    return false;
  chain.push_back(act.inputs[0].layer);
  return true;
}

}  // namespace

void fuseHardSwish(Graph& g, PassNotes& /*notes*/) {
  fuseGate(g, ActKind::HardSigmoid, ActKind::HardSwish, 1.0 / 6, 0.5);
  // x * relu6(x + 3) / 6, in either order of the product and the division.
  for (size_t m = 0; m < g.layers.size(); ++m) {
    Layer& mult = g.layers[m];
    if (mult.dead || mult.type != LayerType::EwMult || mult.activation.kind != ActKind::None)
      continue;
    for (int side = 0; side < 2; ++side) {
      ValueRef a;
      bool divided;
      std::vector<int> chain;
      if (!hardSigmoidBody(g, mult.inputs[side], a, divided, chain) || a != mult.inputs[1 - side])
        continue;
      bool interior = true;
      for (int c : chain) interior &= g.useCount({c, 0}) == 1;
      if (!interior) continue;
      int last = int(m);
      if (!divided) {
        // The division must follow the product.
        const int d = singleConsumer(g, {int(m), 0});
        ValueRef inner;
        float v = 0;
        if (d < 0) continue;
        const Layer& dl = g.at(d);
        const bool div6 =
            scalarOperand(g, dl, LayerType::EwDiv, inner, v) && std::fabs(v - 6.f) < 1e-6f;
        const bool mul6 =
            scalarOperand(g, dl, LayerType::EwMult, inner, v) && std::fabs(v - 1.f / 6) < 1e-6f;
        if (!(div6 || mul6) || inner != ValueRef{int(m), 0}) continue;
        chain.push_back(int(m));
        last = d;
      }
      Layer& out = g.at(last);
      std::vector<std::string> names;
      for (int c : chain) {
        for (const auto& n : g.at(c).originalNames) names.push_back(n);
        g.at(c).dead = true;
      }
      for (const auto& n : out.originalNames) names.push_back(n);
      out.dead = false;
      out.type = LayerType::Activation;
      out.inputs = {a};
      out.activation = Activation{ActKind::HardSwish, 1.0 / 6, 0.5};
      out.params.clear();
      out.attrs.clear();
      out.originalNames = names;
      break;
    }
  }
}

void fuseSilu(Graph& g, PassNotes& /*notes*/) {
  fuseGate(g, ActKind::Sigmoid, ActKind::Silu, 0, 0);
}

}  // namespace kiln::passes
