// The output stage over a run of accumulators of one channel: the branches of
// OutputStage::apply hoisted out of the loop (clamp, table), and on x86-64 an AVX2 clone of the
// common clamp-only case. Integer arithmetic: the same values as apply(), element by element.
#include "runtime/kernels/kernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt {

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_STAGE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KILN_STAGE_CLONES
#endif

// clamp(round(acc * m / 2^shift) + zp) for int32 accumulators, 1 <= shift <= 62: the product
// fits int64 (|acc * m| <= 2^62) and so does adding the rounding half.
KILN_STAGE_CLONES
void clampRun32(const int32_t* acc, int64_t n, int64_t m, int32_t shift, int64_t zp, int64_t lo,
                int64_t hi, Act* out) {
  const int64_t half = int64_t(1) << (shift - 1);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = ((int64_t(acc[i]) * m + half) >> shift) + zp;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    out[i] = Act(v);
  }
}

// out[i] = int32_t(acc[i]); whether every value fits int32 (min/max reductions, so that the loop
// vectorizes).
KILN_STAGE_CLONES
bool narrowRun(const int64_t* acc, int64_t n, int32_t* out) {
  int64_t lo = 0, hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = acc[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    out[i] = int32_t(v);
  }
  return lo >= INT32_MIN && hi <= INT32_MAX;
}

// OutputStage::apply's table branch with the stage's fields read once (same arithmetic).
template <typename Acc>
void lutRun(const OutputStage& s, const Multiplier& m, const Acc* acc, int64_t n, Act* out) {
  const int64_t f = s.lutFracBits;
  const int64_t offset = int64_t(s.lutOffset) << f, top = int64_t(s.lutSize - 1) << f;
  const int64_t fracMask = (int64_t(1) << f) - 1, last = s.lutSize - 1;
  const int32_t outShift = 30 + int32_t(f) + s.lutValueBits;
  // requantize(y, 2^30, S) = floor((2^30 y + 2^(S-1)) / 2^S) = floor((y + 2^(S-31)) / 2^(S-30))
  // for S >= 31 (the same integer without the 128-bit product), and y itself for S = 30.
  const int32_t yShift = outShift - 30;
  const int64_t yHalf = yShift >= 1 ? int64_t(1) << (yShift - 1) : 0;
  const int32_t* lut = s.lut;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t v = clampTo(requantize(int64_t(acc[k]), m) + offset, 0, top);
    const int64_t i = v >> f, frac = v & fracMask;
    const int64_t a = lut[i], b = i < last ? lut[i + 1] : a;
    const int64_t y = (a << f) + (b - a) * frac;
    out[k] = static_cast<Act>(clampTo((y + yHalf) >> yShift, s.qmin, s.qmax));
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// lutRun for int32 accumulators with AVX2, four values per step in 64-bit lanes (every
// intermediate of lutRun is an int64; shift >= 1). The arithmetic is lutRun's, integer for integer:
//   requantize: p = acc * m (vpmuldq, exact), p + 2^(shift-1) + 2^62 lies in [0, 2^64) as an
//     unsigned value (|p| <= 2^62), so a logical shift and subtracting 2^(62-shift) is the floor;
//   the table index and fraction of the clamped v in [0, (size-1) << f], two gathers, and
//     y = (a << f) + (b - a) * frac >= 0 (a, b in [0, 2^30], frac < 2^f: vpmuldq is exact), so
//     the final shift is logical too; the clamps are 64-bit compares.
__attribute__((target("avx2"))) int64_t lutRunAvx2(const OutputStage& s, const Multiplier& m,
                                                   const int32_t* acc, int64_t n, Act* out) {
  const int64_t f = s.lutFracBits;
  const __m256i mul = _mm256_set1_epi64x(m.m);
  const __m256i bias = _mm256_set1_epi64x((int64_t(1) << (m.shift - 1)) + (int64_t(1) << 62));
  const __m256i unbias = _mm256_set1_epi64x((int64_t(1) << (62 - m.shift)));
  const __m128i shift = _mm_cvtsi32_si128(m.shift), fShift = _mm_cvtsi32_si128(int(f));
  const __m256i offset = _mm256_set1_epi64x(int64_t(s.lutOffset) << f);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i top = _mm256_set1_epi64x(int64_t(s.lutSize - 1) << f);
  const __m256i fracMask = _mm256_set1_epi64x((int64_t(1) << f) - 1);
  const __m256i last = _mm256_set1_epi64x(s.lutSize - 1);
  const int32_t yShift = 30 + int32_t(f) + s.lutValueBits - 30;
  const __m256i yHalf = _mm256_set1_epi64x(yShift >= 1 ? int64_t(1) << (yShift - 1) : 0);
  const __m128i yShiftV = _mm_cvtsi32_si128(yShift);
  const __m256i qmin = _mm256_set1_epi64x(s.qmin), qmax = _mm256_set1_epi64x(s.qmax);
  const __m256i pack = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const int* lut = reinterpret_cast<const int*>(s.lut);
  int64_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const __m256i a64 =
        _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + k)));
    __m256i v = _mm256_add_epi64(_mm256_mul_epi32(a64, mul), bias);
    v = _mm256_sub_epi64(_mm256_srl_epi64(v, shift), unbias);
    v = _mm256_add_epi64(v, offset);
    v = _mm256_blendv_epi8(v, zero, _mm256_cmpgt_epi64(zero, v));
    v = _mm256_blendv_epi8(v, top, _mm256_cmpgt_epi64(v, top));
    const __m256i i = _mm256_srl_epi64(v, fShift);
    const __m256i frac = _mm256_and_si256(v, fracMask);
    const __m256i i1 = _mm256_sub_epi64(i, _mm256_cmpgt_epi64(last, i));  // i + (i < last)
    const __m256i a = _mm256_cvtepi32_epi64(_mm256_i64gather_epi32(lut, i, 4));
    const __m256i b = _mm256_cvtepi32_epi64(_mm256_i64gather_epi32(lut, i1, 4));
    __m256i y = _mm256_add_epi64(_mm256_sll_epi64(a, fShift),
                                 _mm256_mul_epi32(_mm256_sub_epi64(b, a), frac));
    y = _mm256_srl_epi64(_mm256_add_epi64(y, yHalf), yShiftV);
    y = _mm256_blendv_epi8(y, qmin, _mm256_cmpgt_epi64(qmin, y));
    y = _mm256_blendv_epi8(y, qmax, _mm256_cmpgt_epi64(y, qmax));
    // Four values in [qmin, qmax] within [0, 2^16): packed to uint16 without saturating.
    const __m128i y32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(y, pack));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + k), _mm_packus_epi32(y32, y32));
  }
  return k;
}

// floor((p + 2^(shift-1)) / 2^shift) + zp clamped to [lo, hi], on four int64 products.
__attribute__((target("avx2"))) inline __m256i clampHalf(__m256i p, __m256i bias, __m256i unbias,
                                                         __m128i sh, __m256i lo, __m256i hi) {
  __m256i v = _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(p, bias), sh), unbias);
  v = _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
  return _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
}

// Whether lutRun8Avx2 may run: every y = (a << f) + (b - a) * frac lies in [0, lutMax << f]
// (a and b table entries in [0, lutMax], frac < 2^f: y interpolates between a << f and b << f),
// so y + yHalf, |b - a| * frac and the clamped position (at most (size - 1) << f) all fit int32.
bool lut32Fits(const OutputStage& s) {
  const int64_t f = s.lutFracBits, yShift = f + s.lutValueBits;
  const int64_t yHalf = yShift >= 1 ? int64_t(1) << (yShift - 1) : 0;
  return s.lutMax >= 0 && f <= 30 && (int64_t(s.lutMax) << f) + yHalf <= INT32_MAX &&
         (int64_t(s.lutSize - 1) << f) <= INT32_MAX;
}

// lutRun for int32 accumulators with AVX2, eight values per step (lut32Fits(s), shift >= 1):
// requantize in 64-bit lanes as clampRun32Avx2 (even and odd lanes apart, vpmuldq exact, the
// floor as a logical shift of the value biased by 2^62), the table offset folded into that
// subtraction and the clamp to [0, (size - 1) << f] in 64 bits; then everything in eight int32
// lanes: index and fraction, two gathers, y = (a << f) + (b - a) * frac (vpmulld: the product
// fits int32, see lut32Fits), the rounding shift (y + yHalf >= 0: logical) and the output clamp.
__attribute__((target("avx2"))) int64_t lutRun8Avx2(const OutputStage& s, const Multiplier& m,
                                                    const int32_t* acc, int64_t n, Act* out) {
  const int32_t f = s.lutFracBits;
  const __m256i mul = _mm256_set1_epi64x(m.m);
  const __m256i bias = _mm256_set1_epi64x((int64_t(1) << (m.shift - 1)) + (int64_t(1) << 62));
  const __m256i unbias =
      _mm256_set1_epi64x((int64_t(1) << (62 - m.shift)) - (int64_t(s.lutOffset) << f));
  const __m128i shift = _mm_cvtsi32_si128(m.shift), fShift = _mm_cvtsi32_si128(f);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i top = _mm256_set1_epi64x(int64_t(s.lutSize - 1) << f);
  const __m256i fracMask = _mm256_set1_epi32((1 << f) - 1);
  const __m256i last = _mm256_set1_epi32(s.lutSize - 1), one = _mm256_set1_epi32(1);
  const int32_t yShift = f + s.lutValueBits;
  const __m256i yHalf = _mm256_set1_epi32(yShift >= 1 ? int32_t(1) << (yShift - 1) : 0);
  const __m128i yShiftV = _mm_cvtsi32_si128(yShift);
  const __m256i qmin = _mm256_set1_epi32(s.qmin), qmax = _mm256_set1_epi32(s.qmax);
  const int* lut = reinterpret_cast<const int*>(s.lut);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + k));
    const __m256i even = clampHalf(_mm256_mul_epi32(x, mul), bias, unbias, shift, zero, top);
    const __m256i odd =
        clampHalf(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), mul), bias, unbias, shift, zero, top);
    const __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    const __m256i i = _mm256_srl_epi32(v, fShift);
    const __m256i frac = _mm256_and_si256(v, fracMask);
    const __m256i a = _mm256_i32gather_epi32(lut, i, 4);
    const __m256i b =
        _mm256_i32gather_epi32(lut, _mm256_min_epi32(_mm256_add_epi32(i, one), last), 4);
    __m256i y = _mm256_add_epi32(_mm256_sll_epi32(a, fShift),
                                 _mm256_mullo_epi32(_mm256_sub_epi32(b, a), frac));
    y = _mm256_srl_epi32(_mm256_add_epi32(y, yHalf), yShiftV);
    y = _mm256_min_epi32(_mm256_max_epi32(y, qmin), qmax);
    // Eight values in [qmin, qmax] within [0, 2^16): packed to uint16 without saturating.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k),
                     _mm_packus_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1)));
  }
  return k;
}

// Whether lutRunPairAvx2 may run: the stage has its pair table, lut32Fits, 2^f fits int16
// (f <= 14), and the position v = requantize(acc) + (lutOffset << f) fits int32 before its clamp:
// |requantize(acc)| <= 2^(62 - shift) + 1 (|acc * m| < 2^62).
bool lutPairFits(const OutputStage& s, const Multiplier& m) {
  return s.lutPairs && lut32Fits(s) && s.lutFracBits <= 14 && m.shift >= 1 && m.shift <= 62 &&
         (int64_t(1) << (62 - m.shift)) + 1 + (int64_t(s.lutOffset) << s.lutFracBits) <= INT32_MAX;
}

// lutRun for int32 accumulators with AVX2, eight values per step (lutPairFits(s, m)):
//   requantize as clampRun32Avx2 (vpmuldq on the even and odd lanes, the floor as a logical shift
//     of the product biased by 2^62: u = requantize(acc) + 2^(62 - shift)); only u's low 32 bits
//     are kept: v = u - 2^(62 - shift) + (lutOffset << f) in wrapping int32 lanes is v modulo
//     2^32, which is v itself as v fits int32 (lutPairFits);
//   v clamped to [0, (size - 1) << f], index i = v >> f and fraction v & (2^f - 1), one gather
//     of the pair (a, b - a) and y = a * 2^f + (b - a) * frac as one vpmaddwd of the pair with
//     (2^f, frac) (products below 2^29: exact), the rounding shift and the output clamp as in
//     lutRun8Avx2.
__attribute__((target("avx2"))) int64_t lutRunPairAvx2(const OutputStage& s, const Multiplier& m,
                                                       const int32_t* acc, int64_t n, Act* out) {
  const int32_t f = s.lutFracBits;
  const __m256i mul = _mm256_set1_epi64x(m.m);
  const __m256i bias = _mm256_set1_epi64x((int64_t(1) << (m.shift - 1)) + (int64_t(1) << 62));
  const __m128i shift = _mm_cvtsi32_si128(m.shift), fShift = _mm_cvtsi32_si128(f);
  // -2^(62 - shift) + (lutOffset << f), modulo 2^32.
  const __m256i offset = _mm256_set1_epi32(
      int32_t(uint32_t((int64_t(s.lutOffset) << f) - (int64_t(1) << (62 - m.shift)))));
  const __m256i zero = _mm256_setzero_si256();
  const __m256i top = _mm256_set1_epi32((s.lutSize - 1) << f);
  const __m256i fracMask = _mm256_set1_epi32((1 << f) - 1), unit = _mm256_set1_epi32(1 << f);
  const int32_t yShift = f + s.lutValueBits;
  const __m256i yHalf = _mm256_set1_epi32(yShift >= 1 ? int32_t(1) << (yShift - 1) : 0);
  const __m128i yShiftV = _mm_cvtsi32_si128(yShift);
  const __m256i qmin = _mm256_set1_epi32(s.qmin), qmax = _mm256_set1_epi32(s.qmax);
  const int* pairs = reinterpret_cast<const int*>(s.lutPairs);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + k));
    const __m256i even = _mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, mul), bias), shift);
    const __m256i odd = _mm256_srl_epi64(
        _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), mul), bias), shift);
    __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, offset), zero), top);
    const __m256i i = _mm256_srl_epi32(v, fShift);
    const __m256i coeff =
        _mm256_or_si256(unit, _mm256_slli_epi32(_mm256_and_si256(v, fracMask), 16));
    __m256i y = _mm256_madd_epi16(_mm256_i32gather_epi32(pairs, i, 4), coeff);
    y = _mm256_srl_epi32(_mm256_add_epi32(y, yHalf), yShiftV);
    y = _mm256_min_epi32(_mm256_max_epi32(y, qmin), qmax);
    // Eight values in [qmin, qmax] within [0, 2^16): packed to uint16 without saturating.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k),
                     _mm_packus_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1)));
  }
  return k;
}

// clampRun32 with AVX2, eight values per step: the even and the odd int32 lanes multiplied
// apart in 64-bit lanes (vpmuldq, exact), the floor shift as in lutRunAvx2 (a logical shift of
// the value biased by 2^62), zp added and the clamp done in 64 bits, the two halves interleaved
// back. Returns how many values it did (a multiple of 8); shift >= 1.
__attribute__((target("avx2"))) int64_t clampRun32Avx2(const int32_t* acc, int64_t n, int32_t m,
                                                       int32_t shift, int64_t zp, int64_t lo,
                                                       int64_t hi, Act* out) {
  const __m256i mul = _mm256_set1_epi64x(m);
  const __m256i bias = _mm256_set1_epi64x((int64_t(1) << (shift - 1)) + (int64_t(1) << 62));
  const __m256i unbias = _mm256_set1_epi64x((int64_t(1) << (62 - shift)) - zp);
  const __m128i sh = _mm_cvtsi32_si128(shift);
  const __m256i vlo = _mm256_set1_epi64x(lo), vhi = _mm256_set1_epi64x(hi);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + k));
    const __m256i even = clampHalf(_mm256_mul_epi32(x, mul), bias, unbias, sh, vlo, vhi);
    const __m256i odd =
        clampHalf(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), mul), bias, unbias, sh, vlo, vhi);
    // Eight values in [lo, hi] within [0, 2^16): packed to uint16 without saturating.
    const __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k),
                     _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
  }
  return k;
}

// Eight values of clampRun32NarrowAvx2, clamped to [lo, hi] in int32 lanes.
__attribute__((target("avx2"))) inline __m256i narrowEight(const int32_t* a, __m256i mul,
                                                           __m256i bias, __m128i sh, __m256i unbias,
                                                           __m256i vlo, __m256i vhi) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i even = _mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, mul), bias), sh);
  const __m256i odd =
      _mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), mul), bias), sh);
  const __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  return _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, unbias), vlo), vhi);
}

// clampRun32Avx2 for shift >= 32, where the requantized value r fits int32 with room for zp
// (|r| <= 2^(62 - shift) + 1 <= 2^30 + 1, zp < 2^16): u = r + 2^(62 - shift) (the biased logical
// shift) is kept in its low 32 bits only, and u - 2^(62 - shift) + zp, in wrapping int32 lanes,
// is r + zp itself; the clamp is then two int32 min/max instead of 64-bit compares and blends.
// Sixteen values per step (one 256-bit pack and store), then eight.
__attribute__((target("avx2"))) int64_t clampRun32NarrowAvx2(const int32_t* acc, int64_t n,
                                                             int32_t m, int32_t shift, int64_t zp,
                                                             int64_t lo, int64_t hi, Act* out) {
  const __m256i mul = _mm256_set1_epi64x(m);
  const __m256i bias = _mm256_set1_epi64x((int64_t(1) << (shift - 1)) + (int64_t(1) << 62));
  const __m256i unbias = _mm256_set1_epi32(int32_t(uint32_t(zp - (int64_t(1) << (62 - shift)))));
  const __m128i sh = _mm_cvtsi32_si128(shift);
  const __m256i vlo = _mm256_set1_epi32(int32_t(lo)), vhi = _mm256_set1_epi32(int32_t(hi));
  // Values in [lo, hi] within [0, 2^16): packed to uint16 without saturating.
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    // vpackusdw packs within 128-bit lanes: (a0-3, b0-3, a4-7, b4-7), put back in order.
    const __m256i v =
        _mm256_packus_epi32(narrowEight(acc + k, mul, bias, sh, unbias, vlo, vhi),
                            narrowEight(acc + k + 8, mul, bias, sh, unbias, vlo, vhi));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k), _mm256_permute4x64_epi64(v, 0xD8));
  }
  for (; k + 8 <= n; k += 8) {
    const __m256i v = narrowEight(acc + k, mul, bias, sh, unbias, vlo, vhi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k),
                     _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
  }
  return k;
}

// Whether the stage's AVX2 runs may be used: the CPU has AVX2 and KILN_KERNEL_PATH does not
// force the portable path (read once).
bool stageAvx2() {
  static const bool ok = [] {
    if (!__builtin_cpu_supports("avx2")) return false;
    const char* forced = std::getenv("KILN_KERNEL_PATH");
    return !(forced && std::strcmp(forced, "portable") == 0);
  }();
  return ok;
}
#endif

// clampRun32, vectorized where the CPU allows.
void clampRun32Fast(const int32_t* acc, int64_t n, int32_t m, int32_t shift, int64_t zp, int64_t lo,
                    int64_t hi, Act* out) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (stageAvx2())
    done = shift >= 32 && zp >= 0 && zp <= UINT16_MAX && lo >= 0 && hi <= UINT16_MAX
               ? clampRun32NarrowAvx2(acc, n, m, shift, zp, lo, hi, out)
               : clampRun32Avx2(acc, n, m, shift, zp, lo, hi, out);
#endif
  clampRun32(acc + done, n - done, m, shift, zp, lo, hi, out + done);
}

// The clamp-only branch for any accumulator (requantize's own 64/128-bit choice per value).
template <typename Acc>
void clampRun(const OutputStage& s, const Multiplier& m, const Acc* acc, int64_t n, Act* out) {
  const int64_t zp = s.outZp, lo = s.qmin, hi = s.qmax;
  for (int64_t k = 0; k < n; ++k)
    out[k] = static_cast<Act>(clampTo(requantize(int64_t(acc[k]), m) + zp, lo, hi));
}

// lutRun, vectorized where the CPU allows.
void lutRunFast(const OutputStage& s, const Multiplier& m, const int32_t* acc, int64_t n,
                Act* out) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (m.shift >= 1 && stageAvx2()) {
    if (lutPairFits(s, m))
      done = lutRunPairAvx2(s, m, acc, n, out);
    else
      done = lut32Fits(s) ? lutRun8Avx2(s, m, acc, n, out) : lutRunAvx2(s, m, acc, n, out);
  }
#endif
  lutRun(s, m, acc + done, n - done, out + done);
}

void lutRunFast(const OutputStage& s, const Multiplier& m, const int64_t* acc, int64_t n,
                Act* out) {
  // Accumulators within int32 (the usual case) take the int32 run, in pieces.
  constexpr int64_t kRun = 256;
  int32_t narrow[kRun];
  for (int64_t i0 = 0; i0 < n; i0 += kRun) {
    const int64_t len = std::min(kRun, n - i0);
    const bool fits = narrowRun(acc + i0, len, narrow);
    if (fits)
      lutRunFast(s, m, narrow, len, out + i0);
    else
      lutRun(s, m, acc + i0, len, out + i0);
  }
}

template <typename Acc>
void applyStageRun(const OutputStage& s, const Acc* acc, int64_t n, int64_t channel, Act* out) {
  const Multiplier& m = s.mult[s.perChannel ? channel : 0];
  if (s.lut) return lutRunFast(s, m, acc, n, out);
  if (!s.multNeg) return clampRun(s, m, acc, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = Act(s.apply(acc[i], channel));
}

}  // namespace

std::vector<uint32_t> lutPairTable(const int32_t* lut, int64_t n) {
  std::vector<uint32_t> pairs;
  for (int64_t i = 0; i < n; ++i)
    if (lut[i] < 0 || lut[i] > INT16_MAX) return pairs;
  pairs.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const int32_t a = lut[i], b = i + 1 < n ? lut[i + 1] : a;
    pairs[size_t(i)] = uint32_t(uint16_t(a)) | (uint32_t(uint16_t(int16_t(b - a))) << 16);
  }
  return pairs;
}

void applyStage(const OutputStage& s, const int32_t* acc, int64_t n, int64_t channel, Act* out) {
  const Multiplier& m = s.mult[s.perChannel ? channel : 0];
  if (!s.lut && !s.multNeg && m.shift >= 1) {
    clampRun32Fast(acc, n, m.m, m.shift, s.outZp, s.qmin, s.qmax, out);
    return;
  }
  applyStageRun(s, acc, n, channel, out);
}

void applyStage(const OutputStage& s, const int64_t* acc, int64_t n, int64_t channel, Act* out) {
  const Multiplier& m = s.mult[s.perChannel ? channel : 0];
  if (!s.lut && !s.multNeg && m.shift >= 1) {
    // Accumulators within int32 (the usual case) take the vectorized int32 run, in pieces.
    constexpr int64_t kRun = 256;
    int32_t narrow[kRun];
    for (int64_t i0 = 0; i0 < n; i0 += kRun) {
      const int64_t len = std::min(kRun, n - i0);
      const bool fits = narrowRun(acc + i0, len, narrow);
      if (fits)
        clampRun32Fast(narrow, len, m.m, m.shift, s.outZp, s.qmin, s.qmax, out + i0);
      else
        clampRun(s, m, acc + i0, len, out + i0);
    }
    return;
  }
  applyStageRun(s, acc, n, channel, out);
}

}  // namespace kiln::rt
