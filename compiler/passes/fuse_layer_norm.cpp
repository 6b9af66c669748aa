// fuse_layer_norm: layer normalisation written out as
//   m = ReduceMean(x); d = x - m; v = ReduceMean(d^2); y = d / Sqrt(v + eps) [* gamma] [+ beta]
// (how many exporters spell it before opset 17) -> one layer_normalization layer over the
// trailing reduced axes. Leaves any variant it does not recognise exactly as it was.
#include "compiler/passes/pipeline.h"

namespace kiln::passes {

namespace {

bool isConst(const Graph& g, ValueRef v, float* scalar = nullptr) {
  const Layer& l = g.at(v.layer);
  if (l.type != LayerType::ConstInput) return false;
  if (scalar) {
    if (l.param("value").numel() != 1) return false;
    *scalar = l.param("value").data[0];
  }
  return true;
}

// Trailing axes [a, rank) with keepdims.
bool trailingReduce(const Layer& l, int64_t rank, int64_t& axis) {
  if (l.type != LayerType::ReduceMean || l.attrInt("keepdims", 1) != 1) return false;
  const auto& axes = l.attrInts("axes");
  if (axes.empty() || axes.back() != rank - 1) return false;
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] != axes[i - 1] + 1) return false;
  axis = axes.front();
  return true;
}

}  // namespace

void fuseLayerNorm(Graph& g, PassNotes& /*notes*/) {
  for (size_t di = 0; di < g.layers.size(); ++di) {
    Layer& div = g.layers[di];
    if (div.dead || div.type != LayerType::EwDiv || div.activation.kind != ActKind::None) continue;
    const ValueRef dRef = div.inputs[0], sqrtRef = div.inputs[1];
    const Layer& sub = g.at(dRef.layer);
    const Layer& sq = g.at(sqrtRef.layer);
    if (sub.type != LayerType::EwSub || sq.type != LayerType::Activation ||
        sq.activation.kind != ActKind::Sqrt)
      continue;
    const ValueRef x = sub.inputs[0];
    const int64_t rank = int64_t(g.shapeOf(x).size());
    int64_t axis = 0, axis2 = 0;
    const Layer& mean1 = g.at(sub.inputs[1].layer);
    if (!trailingReduce(mean1, rank, axis) || mean1.inputs[0] != x) continue;
    const Layer& addEps = g.at(sq.inputs[0].layer);
    float eps = 0;
    if (addEps.type != LayerType::EwAdd || !isConst(g, addEps.inputs[1], &eps)) continue;
    const Layer& mean2 = g.at(addEps.inputs[0].layer);
    if (!trailingReduce(mean2, rank, axis2) || axis2 != axis) continue;
    const Layer& pw = g.at(mean2.inputs[0].layer);
    if (pw.type != LayerType::Activation || pw.activation.kind != ActKind::Pow ||
        pw.activation.alpha != 2.0 || pw.inputs[0] != dRef)
      continue;
    // Every intermediate must be read only inside the pattern.
    if (g.useCount(dRef) != 2 || g.useCount(sub.inputs[1]) != 1 ||
        g.useCount(mean2.inputs[0]) != 1 || g.useCount(addEps.inputs[0]) != 1 ||
        g.useCount(sq.inputs[0]) != 1 || g.useCount(sqrtRef) != 1)
      continue;
    const Shape& xs = g.shapeOf(x);
    const Shape norm(xs.begin() + axis, xs.end());
    Tensor scale, bias;
    scale.shape = bias.shape = norm;
    scale.data.assign(numel(norm), 1.f);
    bias.data.assign(numel(norm), 0.f);
    std::vector<int> dead = {dRef.layer,          sqrtRef.layer,
                             sub.inputs[1].layer, addEps.inputs[0].layer,
                             sq.inputs[0].layer,  mean2.inputs[0].layer};
    // Optional affine tail: * gamma, + beta (constants of the normalised shape).
    ValueRef out{int(di), 0};
    auto affine = [&](LayerType t, Tensor& into) {
      const int c = singleConsumer(g, out);
      if (c < 0) return;
      const Layer& l = g.at(c);
      if (l.type != t || l.activation.kind != ActKind::None) return;
      const ValueRef other = l.inputs[0] == out ? l.inputs[1] : l.inputs[0];
      if (!isConst(g, other)) return;
      const Tensor& v = g.at(other.layer).param("value");
      if (v.numel() != numel(norm) || l.outputShapes[0] != xs) return;
      into.data = v.data;
      dead.push_back(out.layer == int(di) ? int(di) : out.layer);
      out = {c, 0};
    };
    affine(LayerType::EwMult, scale);
    affine(LayerType::EwAdd, bias);
    // Rewrite the last layer of the matched chain into the layer_normalization.
    Layer& last = g.at(out.layer);
    std::vector<std::string> names;
    for (int d : dead) {
      for (const auto& n : g.at(d).originalNames) names.push_back(n);
      if (d != out.layer) g.at(d).dead = true;
    }
    for (const auto& n : last.originalNames) names.push_back(n);
    last.type = LayerType::LayerNormalization;
    last.inputs = {x};
    last.attrs = {{"axis", axis}, {"epsilon", double(eps)}};
    last.params = {{"scale", scale}, {"bias", bias}};
    last.originalNames = names;
  }
}

}  // namespace kiln::passes
