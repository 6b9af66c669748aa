// Fused activations in float: one tight loop per activation kind (the kind is switched on once per
// buffer, not per element, so the simple kinds vectorise), and PRelu with per-channel slopes.
#include <algorithm>
#include <cmath>

#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln::float_kernels {

namespace {

template <typename F>
void each(float* p, size_t n, F f) {
  for (size_t i = 0; i < n; ++i) p[i] = f(p[i]);
}

// PRelu over NCHW-like data whose slope is per channel (shape [C], [C,1,1] or [1,C,1,1]...).
// Returns false when the slope shape is something else.
bool preluPerChannel(const Tensor& slope, FloatBuffer& buf) {
  const Shape& s = slope.shape;
  const Shape& o = buf.shape;
  if (o.size() < 2 || s.size() > o.size()) return false;
  // Align the slope to the output's trailing dims: it must be 1 everywhere except at dim 1.
  const size_t off = o.size() - s.size();
  int64_t C = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    const size_t d = off + i;
    if (d == 1) {
      if (s[i] != o[1] && s[i] != 1) return false;
      C = s[i];
    } else if (s[i] != 1) {
      return false;
    }
  }
  const int64_t N = o[0], OC = o[1], inner = numel(o) / std::max<int64_t>(1, N * OC);
  float* p = buf.data.data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < OC; ++c, p += inner) {
      const float sl = slope.data[C == 1 ? 0 : c];
      for (int64_t i = 0; i < inner; ++i) p[i] = p[i] >= 0.f ? p[i] : p[i] * sl;
    }
  return true;
}

}  // namespace

bool clampRange(const Activation& a, float& lo, float& hi) {
  switch (a.kind) {
    case ActKind::Relu:
      lo = 0.f, hi = HUGE_VALF;
      return true;
    case ActKind::Relu6:
      lo = 0.f, hi = 6.f;
      return true;
    case ActKind::Clip:
      lo = float(a.alpha), hi = float(a.beta);
      return lo <= hi;
    default:
      return false;
  }
}

void applyActivationInPlace(const Activation& a, float* p, size_t n) {
  const float alpha = float(a.alpha), beta = float(a.beta);
  switch (a.kind) {
    case ActKind::None:
      return;
    case ActKind::Relu:
      return each(p, n, [](float x) { return x > 0.f ? x : 0.f; });
    case ActKind::Relu6:
      return each(p, n, [](float x) { return std::min(std::max(x, 0.f), 6.f); });
    case ActKind::Clip:
      return each(p, n, [=](float x) { return std::min(std::max(x, alpha), beta); });
    case ActKind::LeakyRelu:
      return each(p, n, [=](float x) { return x >= 0.f ? x : alpha * x; });
    case ActKind::HardSigmoid:
      return each(p, n, [=](float x) { return std::max(0.f, std::min(1.f, alpha * x + beta)); });
    case ActKind::HardSwish:
      return each(p, n,
                  [=](float x) { return x * std::max(0.f, std::min(1.f, alpha * x + beta)); });
    case ActKind::Sigmoid:
      return each(p, n, [](float x) { return 1.f / (1.f + std::exp(-x)); });
    case ActKind::Silu:
      return each(p, n, [](float x) { return x / (1.f + std::exp(-x)); });
    case ActKind::Abs:
      return each(p, n, [](float x) { return std::fabs(x); });
    case ActKind::Neg:
      return each(p, n, [](float x) { return -x; });
    case ActKind::Reciprocal:
      return each(p, n, [](float x) { return 1.f / x; });
    case ActKind::Sqrt:
      return each(p, n, [](float x) { return std::sqrt(x); });
    default:
      break;
  }
  for (size_t i = 0; i < n; ++i) p[i] = applyActivation(a, p[i]);
}

void applyFusedActivation(const Layer& l, FloatBuffer& buf) {
  const Activation& a = l.activation;
  if (a.kind == ActKind::None) return;
  if (a.kind == ActKind::PRelu) {
    const Tensor& slope = l.param("prelu_slope");
    if (preluPerChannel(slope, buf)) return;
    FloatBuffer s{slope.shape, slope.data};
    FloatBuffer x = buf;
    broadcastBinary(x, s, buf, [](float v, float sl) { return v >= 0.f ? v : v * sl; });
    return;
  }
  applyActivationInPlace(a, buf.data.data(), buf.data.size());
}

}  // namespace kiln::float_kernels
