// Element-wise layers in float: ew_* with NumPy broadcasting, per-channel normalization, and the
// fused activation applied after any layer.
#include <algorithm>

#include "emulator/float/kernels.h"

namespace kiln::floatk {

std::vector<int64_t> broadcastStrides(const Shape& s, size_t rank, const Shape& out) {
  std::vector<int64_t> st(rank, 0);
  int64_t stride = 1;
  for (int i = int(s.size()) - 1; i >= 0; --i) {
    const size_t o = rank - s.size() + i;
    st[o] = (s[i] == 1 && out[o] != 1) ? 0 : stride;
    stride *= s[i];
  }
  return st;
}

namespace {

template <typename F>
void broadcastApply(const FloatBuffer& a, const FloatBuffer& b, FloatBuffer& out, F f) {
  const size_t n = out.data.size();
  if (a.data.size() == n && b.data.size() == n) {
    for (size_t i = 0; i < n; ++i) out.data[i] = f(a.data[i], b.data[i]);
    return;
  }
  if (a.data.size() == n && b.data.size() == 1) {
    const float y = b.data[0];
    for (size_t i = 0; i < n; ++i) out.data[i] = f(a.data[i], y);
    return;
  }
  const size_t r = out.shape.size();
  const auto as = broadcastStrides(a.shape, r, out.shape), bs = broadcastStrides(b.shape, r, out.shape);
  // Walk the output with an odometer, keeping both source offsets incrementally.
  std::vector<int64_t> idx(r, 0);
  int64_t ia = 0, ib = 0;
  for (size_t k = 0; k < n; ++k) {
    out.data[k] = f(a.data[ia], b.data[ib]);
    for (int d = int(r) - 1; d >= 0; --d) {
      ia += as[d];
      ib += bs[d];
      if (++idx[d] < out.shape[d]) break;
      ia -= as[d] * out.shape[d];
      ib -= bs[d] * out.shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

void elementwise(const Layer& l, const Inputs& in, FloatBuffer& out) {
  out.data.resize(numel(out.shape));
  const FloatBuffer &a = *in[0], &b = *in[1];
  switch (l.type) {
    case LayerType::EwAdd: broadcastApply(a, b, out, [](float x, float y) { return x + y; }); break;
    case LayerType::EwSub: broadcastApply(a, b, out, [](float x, float y) { return x - y; }); break;
    case LayerType::EwMult: broadcastApply(a, b, out, [](float x, float y) { return x * y; }); break;
    case LayerType::EwDiv: broadcastApply(a, b, out, [](float x, float y) { return x / y; }); break;
    case LayerType::EwMax: broadcastApply(a, b, out, [](float x, float y) { return std::max(x, y); }); break;
    case LayerType::EwMin: broadcastApply(a, b, out, [](float x, float y) { return std::min(x, y); }); break;
    case LayerType::EwEqual: broadcastApply(a, b, out, [](float x, float y) { return x == y ? 1.f : 0.f; }); break;
    default: throw Error("elementwise kernel called for " + std::string(typeWord(l.type)));
  }
}

void normalization(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const auto& scale = l.param("scale").data;
  const auto& bias = l.param("bias").data;
  out.data.resize(x.data.size());
  const int64_t C = x.shape[1], inner = numel(x.shape) / (x.shape[0] * C);
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const size_t base = (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) out.data[base + i] = x.data[base + i] * scale[c] + bias[c];
    }
}

void applyFusedActivation(const Layer& l, FloatBuffer& buf) {
  const Activation& a = l.activation;
  if (a.kind == ActKind::None) return;
  if (a.kind == ActKind::PRelu) {
    FloatBuffer slope{l.param("prelu_slope").shape, l.param("prelu_slope").data};
    FloatBuffer x = buf;
    broadcastApply(x, slope, buf, [](float v, float s) { return v >= 0.f ? v : v * s; });
    return;
  }
  for (float& v : buf.data) v = applyActivation(a, v);
}

}  // namespace kiln::floatk
