// Element-wise layers in float: ew_* with NumPy broadcasting (broadcastBinary in kernels.h) and
// per-channel normalization.
#include <algorithm>

#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln::float_kernels {

void elementwise(const Layer& l, const Inputs& in, FloatBuffer& out) {
  // in[0] may be `out` itself (the executor hands over a dead input's storage): then it is
  // updated in place, element k from element k.
  if (in[0] != &out) out.data.resize(numel(out.shape));
  const FloatBuffer &a = *in[0], &b = *in[1];
  switch (l.type) {
    case LayerType::EwAdd:
      broadcastBinary(a, b, out, [](float x, float y) { return x + y; });
      break;
    case LayerType::EwSub:
      broadcastBinary(a, b, out, [](float x, float y) { return x - y; });
      break;
    case LayerType::EwMult:
      broadcastBinary(a, b, out, [](float x, float y) { return x * y; });
      break;
    case LayerType::EwDiv:
      broadcastBinary(a, b, out, [](float x, float y) { return x / y; });
      break;
    case LayerType::EwMax:
      broadcastBinary(a, b, out, [](float x, float y) { return std::max(x, y); });
      break;
    case LayerType::EwMin:
      broadcastBinary(a, b, out, [](float x, float y) { return std::min(x, y); });
      break;
    case LayerType::EwEqual:
      broadcastBinary(a, b, out, [](float x, float y) { return x == y ? 1.f : 0.f; });
      break;
    default:
      throw Error("elementwise kernel called for " + std::string(typeWord(l.type)));
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
      const float* src = x.data.data() + base;
      float* dst = out.data.data() + base;
      const float sc = scale[c], bi = bias[c];
      for (int64_t i = 0; i < inner; ++i) dst[i] = src[i] * sc + bi;
    }
}

}  // namespace kiln::float_kernels
