#include "compiler/emulator/host_convert_simd.h"

#include "common/cpu_features.h"

#include "runtime/engine/host_convert.h"
#include "runtime/engine/quantize_lanes.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln {

namespace {

#if defined(__x86_64__)
// rt::quantizeFloat eight values at a time (runtime/engine/quantize_lanes.h says why each
// instruction gives the scalar loop's integers).
__attribute__((target("avx2"))) void quantizeAvx2(const float* x, int64_t n,
                                                  const rt::StreamDesc& s, int32_t* q) {
  const rt::QuantizeLanes c = rt::quantizeLanes(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), rt::quantize8(c, x + i));
  rt::quantizeFloat(x + i, n - i, s, q + i);
}

// rt::dequantizeToFloat: float(int64_t(q) - zp) * scale. With |zp| < 2^52 the difference of an
// int32 and zp is exact in double, so converting that double to float rounds the same value as
// converting the int64 does (round to nearest).
__attribute__((target("avx2"))) void dequantizeAvx2(const int32_t* q, int64_t n,
                                                    const rt::StreamDesc& s, float* x) {
  const __m256d zp = _mm256_set1_pd(double(s.zeroPoint));
  const __m256 scale = _mm256_set1_ps(float(s.scale));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i));
    const __m128 a =
        _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(v)), zp));
    const __m128 b =
        _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1)), zp));
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_set_m128(b, a), scale));
  }
  rt::dequantizeToFloat(q + i, n - i, s, x + i);
}
#endif

}  // namespace

void quantizeToInt(const float* x, int64_t n, const rt::StreamDesc& s, int32_t* q) {
#if defined(__x86_64__)
  if (hostHasAvx2()) return quantizeAvx2(x, n, s, q);
#endif
  rt::quantizeFloat(x, n, s, q);
}

void dequantizeFromInt(const int32_t* q, int64_t n, const rt::StreamDesc& s, float* x) {
#if defined(__x86_64__)
  constexpr int64_t kExact = int64_t(1) << 52;
  if (hostHasAvx2() && s.zeroPoint < kExact && s.zeroPoint > -kExact)
    return dequantizeAvx2(q, n, s, x);
#endif
  rt::dequantizeToFloat(q, n, s, x);
}

}  // namespace kiln
