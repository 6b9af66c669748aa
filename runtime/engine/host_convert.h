// Host-side conversions between user buffers and a stream's device integers, as the reference
// runtime defines them:
//   quantize:   q = rint(clip(x, limvals_min, limvals_max) / qp_scale + qp_zp), half to even,
//               in float32 arithmetic (NaN reads as 0)
//   dequantize: x = (q - qp_zp) * qp_scale in float32
// The optimizer's emulation and the runtime both call these.
#pragma once

#include <cmath>
#include <cstdint>

#include "runtime/engine/program.h"

namespace kiln::rt {

/// limvals of a tensor quantized with (scale, zero point, bits): the float range that maps onto
/// [0, 2^bits - 1].
inline void limvals(double scale, int64_t zeroPoint, int32_t bits, float& lo, float& hi) {
  const int64_t qmax = (int64_t(1) << bits) - 1;
  lo = float(double(-zeroPoint) * scale);
  hi = float(double(qmax - zeroPoint) * scale);
}

/// Q: Act (the arena) or int32_t (the emulation's tensors); the value lies in [0, 2^bits).
template <typename Q>
void quantizeFloat(const float* x, int64_t n, const StreamDesc& s, Q* q) {
  const float fscale = float(s.scale), fzp = float(s.zeroPoint);
  const float qmax = float((int64_t(1) << s.bits) - 1);
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if (std::isnan(v)) v = 0.f;
    v = std::min(std::max(v, s.limMin), s.limMax);
    const float r = std::nearbyint(v / fscale + fzp);  // default rounding mode: half to even
    q[i] = Q(std::min(std::max(r, 0.f), qmax));
  }
}

template <typename Q>
void dequantizeToFloat(const Q* q, int64_t n, const StreamDesc& s, float* x) {
  const float scale = float(s.scale);
  for (int64_t i = 0; i < n; ++i) x[i] = float(int64_t(q[i]) - s.zeroPoint) * scale;
}

}  // namespace kiln::rt
