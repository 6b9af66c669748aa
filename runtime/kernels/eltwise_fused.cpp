// The fused runs of eltwise_fused.h. Their AVX2 forms:
//   the accumulators: with pairs16, a - zpA and b - zpB in int16 lanes (exact: both within
//     int16), interleaved as (x, y) pairs and multiplied-added with (mA, mB) by vpmaddwd (one
//     exact int32 per pair); else widened to int32 lanes and multiplied by vpmulld (exact, and
//     wrapping never happens: the accumulator bound of the setup is within int32);
//   requantize: the even and the odd int32 lanes multiplied apart in 64-bit lanes (vpmuldq,
//     |acc m| < 2^62), the floor shift as a logical shift of the value biased by 2^62 (the sum is
//     in [0, 2^64)), the bias and zero point taken off together; the result is within int32
//     (narrowOut), so its low halves are the values, clamped in int32 lanes and packed to uint16.
#include "runtime/kernels/eltwise_fused.h"
#include "common/cpu_features.h"

#include <algorithm>
#include <cstdlib>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt {

namespace {

int64_t maxDiff(int32_t zp, int32_t bits) {
  return std::max<int64_t>(zp, ((int64_t(1) << bits) - 1) - zp);
}

#if defined(__x86_64__) && defined(__GNUC__)
// The broadcast constants of one requantization (AddRequant, AffineRequant: m, shift, outZp,
// lo, hi).
struct RequantLanes {
  __m256i mul, bias, unbias;
  __m128i sh;
  __m256i lo, hi;
};

template <class Requant>
__attribute__((target("avx2"))) inline RequantLanes requantLanes(const Requant& r) {
  return {_mm256_set1_epi64x(r.m),
          _mm256_set1_epi64x((int64_t(1) << (r.shift - 1)) + (int64_t(1) << 62)),
          _mm256_set1_epi64x((int64_t(1) << (62 - r.shift)) - r.outZp),
          _mm_cvtsi32_si128(r.shift),
          _mm256_set1_epi32(r.lo),
          _mm256_set1_epi32(r.hi)};
}

// The requantized values of eight int32 accumulators, plus the zero point, clamped.
__attribute__((target("avx2"))) inline __m256i requant8(__m256i acc, const RequantLanes& q) {
  const __m256i even = _mm256_sub_epi64(
      _mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(acc, q.mul), q.bias), q.sh), q.unbias);
  const __m256i odd = _mm256_sub_epi64(
      _mm256_srl_epi64(
          _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q.mul), q.bias), q.sh),
      q.unbias);
  const __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  return _mm256_min_epi32(_mm256_max_epi32(v, q.lo), q.hi);
}

// The int32-product form of addRequantAvx2 (kProduct: (a - zpA)(b - zpB), else the sum of the
// two operands' products), eight values per step.
template <bool kProduct>
__attribute__((target("avx2"))) int64_t productsAvx2(const AddRequant& r, const Act* a,
                                                     const Act* b, int64_t n, Act* out) {
  const RequantLanes rq = requantLanes(r);
  int64_t k = 0;
  const __m256i zA = _mm256_set1_epi32(r.zpA), zB = _mm256_set1_epi32(r.zpB);
  const __m256i mA = _mm256_set1_epi32(r.mA), mB = _mm256_set1_epi32(r.mB);
  for (; k + 8 <= n; k += 8) {
    const __m256i x = _mm256_sub_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k))), zA);
    const __m256i y = _mm256_sub_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k))), zB);
    const __m256i acc =
        kProduct ? _mm256_mullo_epi32(x, y)
                 : _mm256_add_epi32(_mm256_mullo_epi32(x, mA), _mm256_mullo_epi32(y, mB));
    const __m256i v = requant8(acc, rq);
    // Eight values in [lo, hi] within [0, 2^16): packed to uint16 without saturating.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k),
                     _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
  }
  return k;
}

// (b, a) as one int16 pair word in every 32-bit lane (a in the low half: the x of an (x, y) pair).
__attribute__((target("avx2"))) inline __m256i pair(int32_t a, int32_t b) {
  return _mm256_set1_epi32(int32_t((uint32_t(uint16_t(b)) << 16) | uint16_t(a)));
}

// x mA + y mB of (x, y) pairs with the multipliers split as hi 2^15 + lo (modulo 2^32).
__attribute__((target("avx2"))) inline __m256i splitAcc(__m256i xy, __m256i mHi, __m256i mLo) {
  return _mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(xy, mHi), 15),
                          _mm256_madd_epi16(xy, mLo));
}

// Returns how many values it did (the rest: addRequantRun). r.narrowOut holds.
__attribute__((target("avx2"))) int64_t addRequantAvx2(const AddRequant& r, const Act* a,
                                                       const Act* b, int64_t n, Act* out) {
  const RequantLanes rq = requantLanes(r);
  int64_t k = 0;
  if (r.pairs16 || r.split16) {
    const __m256i zA = _mm256_set1_epi16(int16_t(r.zpA)), zB = _mm256_set1_epi16(int16_t(r.zpB));
    if (r.split16) {
      // m = (m >> 15) 2^15 + (m & 0x7FFF): the high parts within int16, the low in [0, 2^15).
      const __m256i mHi = pair(r.mA >> 15, r.mB >> 15), mLo = pair(r.mA & 0x7FFF, r.mB & 0x7FFF);
      for (; k + 16 <= n; k += 16) {
        const __m256i x =
            _mm256_sub_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k)), zA);
        const __m256i y =
            _mm256_sub_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + k)), zB);
        const __m256i low = splitAcc(_mm256_unpacklo_epi16(x, y), mHi, mLo);
        const __m256i high = splitAcc(_mm256_unpackhi_epi16(x, y), mHi, mLo);
        const __m256i v = _mm256_packus_epi32(requant8(low, rq), requant8(high, rq));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k), v);
      }
      return k;
    }
    const __m256i mAB = pair(r.mA, r.mB);
    for (; k + 16 <= n; k += 16) {
      const __m256i x =
          _mm256_sub_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k)), zA);
      const __m256i y =
          _mm256_sub_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + k)), zB);
      // Per 128-bit lane: elements 0-3 in `low`, 4-7 in `high`; packus puts them back in order.
      const __m256i low = _mm256_madd_epi16(_mm256_unpacklo_epi16(x, y), mAB);
      const __m256i high = _mm256_madd_epi16(_mm256_unpackhi_epi16(x, y), mAB);
      const __m256i v = _mm256_packus_epi32(requant8(low, rq), requant8(high, rq));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k), v);
    }
    return k;
  }
  return r.product ? productsAvx2<true>(r, a, b, n, out) : productsAvx2<false>(r, a, b, n, out);
}

__attribute__((target("avx2"))) int64_t affineRequantAvx2(const AffineRequant& r, const Act* x,
                                                          int64_t n, Act* out) {
  const RequantLanes rq = requantLanes(r);
  const __m256i zp = _mm256_set1_epi32(r.zp), k = _mm256_set1_epi32(r.k),
                c = _mm256_set1_epi32(r.c);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_sub_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))), zp);
    const __m256i y = requant8(_mm256_add_epi32(_mm256_mullo_epi32(v, k), c), rq);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_packus_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1)));
  }
  return i;
}
#endif

// Whether requantized values of accumulators within [-accMax, accMax], plus the zero point, lie
// within int32 (the AVX2 runs then clamp in 32-bit lanes), and the clamp within uint16.
bool narrowOutput(int64_t accMax, const Multiplier& m, const OutputStage& s) {
  // |requantize(acc)| <= floor((accMax m + 2^(shift-1)) / 2^shift) <= (accMax m >> shift) + 1.
  const int64_t outMax = ((accMax * int64_t(m.m)) >> m.shift) + 1;
  return outMax + std::llabs(int64_t(s.outZp)) <= INT32_MAX && s.qmin >= 0 && s.qmax <= 65535 &&
         s.qmin <= s.qmax;
}

}  // namespace

bool affineRequantSetup(int32_t zp, int32_t bits, int64_t k, int64_t c, const OutputStage& s,
                        int64_t channel, AffineRequant& r) {
  if (s.lut || s.multNeg || !s.mult) return false;
  const Multiplier& mult = s.mult[s.perChannel ? channel : 0];
  if (mult.m < 0 || mult.shift < 1 || mult.shift > 62) return false;
  if (std::llabs(k) > INT32_MAX || std::llabs(c) > INT32_MAX) return false;
  const int64_t accMax = maxDiff(zp, bits) * std::llabs(k) + std::llabs(c);
  if (accMax > INT32_MAX) return false;
  r.zp = zp, r.k = int32_t(k), r.c = int32_t(c);
  r.m = mult.m, r.shift = mult.shift;
  r.outZp = s.outZp, r.lo = s.qmin, r.hi = s.qmax;
  r.narrowOut = narrowOutput(accMax, mult, s);
  return true;
}

void affineRequantFast(KernelPath path, const AffineRequant& r, const Act* x, int64_t n, Act* out) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2 && hostHasAvx2() && r.narrowOut)
    done = affineRequantAvx2(r, x, n, out);
#endif
  const int64_t half = int64_t(1) << (r.shift - 1);
  for (int64_t i = done; i < n; ++i) {
    const int64_t acc = (int64_t(x[i]) - r.zp) * r.k + r.c;
    const int64_t v = ((acc * r.m + half) >> r.shift) + r.outZp;
    out[i] = Act(std::min<int64_t>(std::max<int64_t>(v, r.lo), r.hi));
  }
}

bool addRequantSetup(const EltwiseParams& p, AddRequant& r) {
  if (p.op != EltwiseOp::Add && p.op != EltwiseOp::Sub && p.op != EltwiseOp::Mult) return false;
  const OutputStage& s = p.out;
  if (s.lut || s.multNeg || !s.mult) return false;
  const Multiplier& mult = s.mult[0];  // same-shape runs use channel 0 (channelDim < 0)
  if (mult.m < 0 || mult.shift < 1 || mult.shift > 62) return false;
  const int64_t mA = p.multA, mB = p.op == EltwiseOp::Sub ? -p.multB : p.multB;
  if (p.op != EltwiseOp::Mult && (std::llabs(mA) > INT32_MAX || std::llabs(mB) > INT32_MAX))
    return false;
  const int64_t xMax = maxDiff(p.zpA, p.bitsA), yMax = maxDiff(p.zpB, p.bitsB);
  r.product = p.op == EltwiseOp::Mult;
  const int64_t accMax =  // < 2^48
      r.product ? xMax * yMax : xMax * std::llabs(mA) + yMax * std::llabs(mB);
  if (accMax > INT32_MAX) return false;
  r.zpA = p.zpA, r.zpB = p.zpB;
  r.mA = r.product ? 1 : int32_t(mA), r.mB = r.product ? 1 : int32_t(mB);
  r.m = mult.m, r.shift = mult.shift;
  r.outZp = s.outZp, r.lo = s.qmin, r.hi = s.qmax;
  r.narrowOut = narrowOutput(accMax, mult, s);
  r.pairs16 = !r.product && xMax <= INT16_MAX && yMax <= INT16_MAX && std::llabs(mA) <= INT16_MAX &&
              std::llabs(mB) <= INT16_MAX;
  r.split16 = !r.product && !r.pairs16 && xMax <= INT16_MAX && yMax <= INT16_MAX &&
              std::llabs(mA) < (int64_t(1) << 30) && std::llabs(mB) < (int64_t(1) << 30);
  return true;
}

void addRequantRun(const AddRequant& r, const Act* a, const Act* b, int64_t n, Act* out) {
  const int64_t half = int64_t(1) << (r.shift - 1);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t x = int64_t(a[k]) - r.zpA, y = int64_t(b[k]) - r.zpB;
    const int64_t acc = r.product ? x * y : x * r.mA + y * r.mB;
    const int64_t v = ((acc * r.m + half) >> r.shift) + r.outZp;
    out[k] = Act(std::min<int64_t>(std::max<int64_t>(v, r.lo), r.hi));
  }
}

void addRequantFast(KernelPath path, const AddRequant& r, const Act* a, const Act* b, int64_t n,
                    Act* out) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2 && hostHasAvx2() && r.narrowOut)
    done = addRequantAvx2(r, a, b, n, out);
#endif
  addRequantRun(r, a + done, b + done, n - done, out + done);
}

}  // namespace kiln::rt
