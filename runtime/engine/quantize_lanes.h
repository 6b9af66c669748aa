// rt::quantizeFloat eight floats at a time (AVX2), step by step, each std:: call as the
// instruction with its exact semantics, so the integers are the scalar loop's:
//   NaN -> 0                      andnot with the unordered mask (+0.0f, as `v = 0.f`)
//   std::max(v, lo) = v < lo ? lo : v     maxps(lo, v) (lo > v ? lo : v; no NaN left)
//   std::min(v, hi) = hi < v ? hi : v     minps(hi, v)
//   v / fscale + fzp              divps then addps (two roundings, no FMA: as the scalar code)
//   std::nearbyint                roundps in the current rounding mode
//   min(max(r, 0), qmax), Q(...)  maxps(0, r), minps(qmax, r), truncating conversion
// Shared by the runtime's arena conversions (host_convert_run.cpp) and the emulation's int32
// buffers (compiler/emulator/host_convert_simd.cpp). Callers check the host has AVX2.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <cstdint>

#include "runtime/engine/host_convert.h"

namespace kiln::rt {

/// The broadcast constants of one stream's quantization.
struct QuantizeLanes {
  __m256 lo, hi, scale, zp, zero, top;
};

__attribute__((target("avx2"))) inline QuantizeLanes quantizeLanes(const StreamDesc& s) {
  const float qmax = float((int64_t(1) << s.bits) - 1);
  return {
      _mm256_set1_ps(s.limMin),           _mm256_set1_ps(s.limMax), _mm256_set1_ps(float(s.scale)),
      _mm256_set1_ps(float(s.zeroPoint)), _mm256_setzero_ps(),      _mm256_set1_ps(qmax)};
}

/// The eight quantized values of x[0..8) as int32 lanes, each within [0, qmax].
__attribute__((target("avx2"))) inline __m256i quantize8(const QuantizeLanes& c, const float* x) {
  __m256 v = _mm256_loadu_ps(x);
  v = _mm256_andnot_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), v);
  v = _mm256_min_ps(c.hi, _mm256_max_ps(c.lo, v));
  __m256 r =
      _mm256_round_ps(_mm256_add_ps(_mm256_div_ps(v, c.scale), c.zp), _MM_FROUND_CUR_DIRECTION);
  r = _mm256_min_ps(c.top, _mm256_max_ps(c.zero, r));
  return _mm256_cvttps_epi32(r);
}

}  // namespace kiln::rt
#endif
