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

#include "runtime/engine/host_convert.h"
#include "runtime/kernels/thread_pool.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt {

namespace {

// Elements per range when a conversion is split over threads.
constexpr int64_t kGrain = 16384;

#if defined(__x86_64__) && defined(__GNUC__)
bool hostAvx2() {
  static const bool ok = __builtin_cpu_supports("avx2");
  return ok;
}

__attribute__((target("avx2"))) int64_t quantizeAvx2(const float* x, int64_t n, const StreamDesc& s,
                                                     Act* q) {
  const float fscale = float(s.scale), fzp = float(s.zeroPoint);
  const float qmax = float((int64_t(1) << s.bits) - 1);
  const __m256 lo = _mm256_set1_ps(s.limMin), hi = _mm256_set1_ps(s.limMax);
  const __m256 vs = _mm256_set1_ps(fscale), vz = _mm256_set1_ps(fzp);
  const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(qmax);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    v = _mm256_andnot_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), v);
    v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
    __m256 r = _mm256_round_ps(_mm256_add_ps(_mm256_div_ps(v, vs), vz), _MM_FROUND_CUR_DIRECTION);
    r = _mm256_min_ps(top, _mm256_max_ps(zero, r));
    const __m256i w = _mm256_cvttps_epi32(r);
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
    if (path == KernelPath::Avx2 && hostAvx2()) done = quantizeAvx2(x + b, e - b, s, q + b);
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
    if (path == KernelPath::Avx2 && exact && hostAvx2())
      done = dequantizeAvx2(q + b, e - b, s, x + b);
#endif
    dequantizeToFloat(q + b + done, e - b - done, s, x + b + done);
  });
}

}  // namespace kiln::rt
