// The IR verifier: checks a graph's structural invariants layer by layer.
#include "compiler/ir/verifier.h"

#include <string>

namespace kiln {

namespace {

std::string inputCountRule(LayerType t) {
  const int mn = minInputs(t), mx = maxInputs(t);
  if (mx < 0) return "at least " + std::to_string(mn);
  if (mn == mx) return std::to_string(mn);
  return std::to_string(mn) + " to " + std::to_string(mx);
}

std::string shapesStr(const std::vector<Shape>& shapes) {
  std::string s;
  for (const Shape& sh : shapes) s += (s.empty() ? "" : " ") + shapeStr(sh);
  return s.empty() ? "none" : s;
}

}  // namespace

void verify(const Graph& g) {
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    auto fail = [&](const std::string& what) {
      throw Error("IR verifier: layer " + l.name + " (" + typeWord(l.type) + "): " + what);
    };
    if (l.dead) fail("dead layer left in the graph");
    const int n = int(l.inputs.size());
    if (n < minInputs(l.type) || (maxInputs(l.type) >= 0 && n > maxInputs(l.type)))
      fail("has " + std::to_string(n) + " inputs, but a " + typeWord(l.type) + " takes " +
           inputCountRule(l.type));
    std::vector<Shape> in;
    for (int k = 0; k < n; ++k) {
      const ValueRef& v = l.inputs[size_t(k)];
      const std::string which = "input " + std::to_string(k) + " ";
      if (v.layer < 0 || v.layer >= int(g.layers.size()))
        fail(which + "refers to layer " + std::to_string(v.layer) + ", which does not exist (" +
             std::to_string(g.layers.size()) + " layers)");
      const Layer& src = g.layers[size_t(v.layer)];
      if (v.layer >= int(i))
        fail(which + "reads layer " + src.name + ", which does not come before it (order broken)");
      if (v.port < 0 || v.port >= int(src.outputShapes.size()))
        fail(which + "reads port " + std::to_string(v.port) + " of layer " + src.name +
             ", which has " + std::to_string(src.outputShapes.size()) + " outputs");
      in.push_back(g.shapeOf(v));
    }
    const std::vector<Shape> expect = inferShapes(l, in);
    if (expect != l.outputShapes)
      fail("stored output shapes " + shapesStr(l.outputShapes) + " differ from inferred ones " +
           shapesStr(expect));
    if (hasWeights(l.type)) {
      const int64_t cout =
          l.outputShapes[0][l.type == LayerType::Fc ? l.outputShapes[0].size() - 1 : 1];
      if (!l.hasParam("bias") || l.param("bias").numel() != cout)
        fail("bias does not match outputs");
    }
    for (const auto& [role, t] : l.params)
      if (int64_t(t.data.size()) != t.numel()) fail("parameter " + role + " size mismatch");
    if (l.activation.kind == ActKind::PRelu && !l.hasParam("prelu_slope"))
      fail("prelu without prelu_slope");
  }
}

}  // namespace kiln
