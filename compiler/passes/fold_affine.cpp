// fold_affine: element-wise layers that apply a per-channel (or scalar) constant affine map,
// x*c, x+c, x-c, c-x, x/c, become `normalization` layers (y = x*scale + bias per channel), and
// every normalization is then folded where that is exact:
//   - backwards into the conv/dw/deconv that produces its input (nobody else reading it, no
//     activation in between): the output channel's weights and bias are scaled;
//   - forwards into a following ungrouped conv without padding (nobody else reading it): the input
//     channel's weights are scaled and the shift goes into the bias;
//   - into an adjacent normalization.
// PaddlePaddle's learnable affine blocks and scale-by-constant layers disappear this way. Leaves
// everything else, including a normalization a padded conv reads (folding would change borders).
#include <cmath>

#include "compiler/passes/pipeline.h"

namespace kiln::passes {

namespace {

// The per-channel constant of `c` for a tensor of shape `x` (channels on dimension 1); false when
// it is not a scalar or one value per channel.
bool channelConstant(const Graph& g, ValueRef c, const Shape& x, std::vector<double>& out) {
  const Layer& l = g.at(c.layer);
  if (l.type != LayerType::ConstInput || x.size() < 2) return false;
  const Tensor& t = l.param("value");
  const int64_t C = x[1];
  if (t.numel() == 1) {
    out.assign(size_t(C), t.data[0]);
    return true;
  }
  if (t.numel() != C) return false;
  // Right-aligned against x, the constant must have C at x's dimension 1 and 1 elsewhere.
  const int64_t offset = int64_t(x.size()) - int64_t(t.shape.size());
  if (offset > 1 || offset < 0) return false;
  for (size_t j = 0; j < t.shape.size(); ++j)
    if (t.shape[j] != (int64_t(j) + offset == 1 ? C : 1)) return false;
  out.assign(t.data.begin(), t.data.end());
  return true;
}

// Turns a constant element-wise layer into a normalization layer in place.
bool toNormalization(Graph& g, int id) {
  Layer& l = g.at(id);
  if (l.activation.kind != ActKind::None) return false;
  if (l.type != LayerType::EwMult && l.type != LayerType::EwAdd && l.type != LayerType::EwSub &&
      l.type != LayerType::EwDiv)
    return false;
  for (int side = 0; side < 2; ++side) {
    const ValueRef x = l.inputs[1 - side], c = l.inputs[side];
    std::vector<double> k;
    if (g.shapeOf(x) != l.outputShapes[0] || !channelConstant(g, c, g.shapeOf(x), k)) continue;
    const size_t C = k.size();
    std::vector<double> scale(C, 1.0), bias(C, 0.0);
    switch (l.type) {
      case LayerType::EwMult:
        scale = k;
        break;
      case LayerType::EwAdd:
        bias = k;
        break;
      case LayerType::EwSub:
        if (side == 1) {
          for (size_t i = 0; i < C; ++i) bias[i] = -k[i];  // x - c
        } else {
          for (size_t i = 0; i < C; ++i) scale[i] = -1.0, bias[i] = k[i];  // c - x
        }
        break;
      default:  // div: only x / c
        if (side != 1) continue;
        for (size_t i = 0; i < C; ++i) {
          if (k[i] == 0) return false;
          scale[i] = 1.0 / k[i];
        }
    }
    Tensor ts, tb;
    ts.shape = tb.shape = {int64_t(C)};
    for (size_t i = 0; i < C; ++i)
      ts.data.push_back(float(scale[i])), tb.data.push_back(float(bias[i]));
    l.type = LayerType::Normalization;
    l.inputs = {x};
    l.params = {{"scale", ts}, {"bias", tb}};
    l.attrs.clear();
    return true;
  }
  return false;
}

bool foldBackward(Graph& g, int id) {
  Layer& n = g.at(id);
  const ValueRef src = n.inputs[0];
  Layer& p = g.at(src.layer);
  const bool weighted = p.type == LayerType::Conv || p.type == LayerType::Dw ||
                        p.type == LayerType::Deconv || p.type == LayerType::Normalization;
  if (!weighted || p.activation.kind != ActKind::None || singleConsumer(g, src) != id) return false;
  const auto& s = n.param("scale").data;
  const auto& t = n.param("bias").data;
  if (p.type == LayerType::Normalization) {
    auto& ps = p.params["scale"].data;
    auto& pb = p.params["bias"].data;
    for (size_t c = 0; c < ps.size(); ++c) ps[c] *= s[c], pb[c] = pb[c] * s[c] + t[c];
  } else {
    Tensor& k = p.params["kernel"];
    Tensor& b = p.params["bias"];
    const int64_t cout = int64_t(b.data.size());
    if (p.type == LayerType::Deconv) {
      const int64_t per = k.shape[1], khw = k.shape[2] * k.shape[3];
      const int64_t cinPerGroup = k.shape[0] / p.attrInt("group", 1);
      for (int64_t ci = 0; ci < k.shape[0]; ++ci)
        for (int64_t j = 0; j < per; ++j)
          for (int64_t q = 0; q < khw; ++q)
            k.data[(ci * per + j) * khw + q] *= s[(ci / cinPerGroup) * per + j];
    } else {
      const int64_t per = k.numel() / cout;
      for (int64_t c = 0; c < cout; ++c)
        for (int64_t q = 0; q < per; ++q) k.data[c * per + q] *= s[c];
    }
    for (int64_t c = 0; c < cout; ++c) b.data[c] = b.data[c] * s[c] + t[c];
  }
  p.activation = n.activation;
  absorbInto(g, id, src, src.layer);
  return true;
}

bool foldForward(Graph& g, int id) {
  const int next = singleConsumer(g, {id, 0});
  if (next < 0 || g.at(id).activation.kind != ActKind::None) return false;
  Layer& c = g.at(next);
  const auto& s = g.at(id).param("scale").data;
  const auto& t = g.at(id).param("bias").data;
  if (c.type == LayerType::Conv && c.attrInt("group", 1) == 1) {
    for (int64_t p : c.attrInts("pads"))
      if (p != 0) return false;  // borders would read the shift instead of zero
    Tensor& k = c.params["kernel"];
    Tensor& b = c.params["bias"];
    const int64_t cout = k.shape[0], cin = k.shape[1], khw = k.shape[2] * k.shape[3];
    if (int64_t(s.size()) != cin) return false;
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t i = 0; i < cin; ++i)
        for (int64_t q = 0; q < khw; ++q) {
          float& w = k.data[(o * cin + i) * khw + q];
          b.data[o] += w * t[i];
          w *= s[i];
        }
  } else if (c.type == LayerType::Normalization) {
    auto& cs = c.params["scale"].data;
    auto& cb = c.params["bias"].data;
    for (size_t i = 0; i < cs.size(); ++i) cb[i] += cs[i] * t[i], cs[i] *= s[i];
  } else {
    return false;
  }
  const ValueRef src = g.at(id).inputs[0];
  auto& names = c.originalNames;
  names.insert(names.begin(), g.at(id).originalNames.begin(), g.at(id).originalNames.end());
  g.at(id).dead = true;
  c.inputs[0] = src;
  return true;
}

}  // namespace

void foldAffine(Graph& g, PassNotes& /*notes*/) {
  for (size_t i = 0; i < g.layers.size(); ++i)
    if (!g.layers[i].dead) toNormalization(g, int(i));
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = 0; i < g.layers.size(); ++i) {
      if (g.layers[i].dead || g.layers[i].type != LayerType::Normalization) continue;
      if (foldBackward(g, int(i)) || foldForward(g, int(i))) changed = true;
    }
  }
}

}  // namespace kiln::passes
