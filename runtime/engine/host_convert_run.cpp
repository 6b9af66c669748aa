// The arena host conversions of host_convert_run.h. The AVX2 forms follow the scalar loops
// instruction for instruction (as compiler/emulator/host_convert_simd.cpp does for the
// emulation's int32 buffers):
//   quantize: NaN -> +0 (andnot with the unordered mask), std::max(v, lo) as maxps(lo, v) and
//     std::min(v, hi) as minps(hi, v) (the same operand order, so the same result for signed
//     zeros), v / scale + zp as divps then addps (two roundings, no FMA), std::nearbyint as
//     roundps in the current rounding mode, the clamp to [0, qmax] and the truncating conversion
//     (the value is integral), packed to uint16 without saturating (it lies in [0, 2^16));
//   dequantize: q - zp is exact in int32 (both within [0, 2^16)) and its conversion to float is
//     exact (|q - zp| < 2^24), as float(int64_t(q) - zp) is; then one float multiply.
#include "runtime/engine/host_convert_run.h"

#include "common/cpu_features.h"
#include "runtime/engine/host_convert.h"
#include "runtime/engine/quantize_lanes.h"
#include "runtime/kernels/thread_pool.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt {

namespace {

// Elements per range when a conversion is split over threads.
constexpr int64_t kGrain = 16384;

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) int64_t quantizeAvx2(const float* x, int64_t n, const StreamDesc& s,
                                                     Act* q) {
  const QuantizeLanes c = quantizeLanes(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // Each value lies in [0, qmax] within [0, 2^16): packed to uint16 without saturating.
    const __m256i w = quantize8(c, x + i);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i),
                     _mm_packus_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)));
  }
  return i;
}

__attribute__((target("avx2"))) int64_t dequantizeAvx2(const Act* q, int64_t n, const StreamDesc& s,
                                                       float* x) {
  const __m256i zp = _mm256_set1_epi32(int32_t(s.zeroPoint));
  const __m256 scale = _mm256_set1_ps(float(s.scale));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i)));
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, zp)), scale));
  }
  return i;
}
#endif

}  // namespace

void quantizeToArena(KernelPath path, const float* x, int64_t n, const StreamDesc& s, Act* q) {
  parallelRanges(n, kGrain, [&](int64_t b, int64_t e) {
    int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (path == KernelPath::Avx2 && hostHasAvx2()) done = quantizeAvx2(x + b, e - b, s, q + b);
#endif
    quantizeFloat(x + b + done, e - b - done, s, q + b + done);
  });
}

void dequantizeFromArena(KernelPath path, const Act* q, int64_t n, const StreamDesc& s, float* x) {
  parallelRanges(n, kGrain, [&](int64_t b, int64_t e) {
    int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    // Stream zero points lie in [0, 2^bits) (validated at load), so q - zp is within int32.
    const bool exact = s.zeroPoint >= 0 && s.zeroPoint < 65536;
    if (path == KernelPath::Avx2 && exact && hostHasAvx2())
      done = dequantizeAvx2(q + b, e - b, s, x + b);
#endif
    dequantizeToFloat(q + b + done, e - b - done, s, x + b + done);
  });
}

}  // namespace kiln::rt
