// The output stage over a run of accumulators of one channel: the branches of
// OutputStage::apply hoisted out of the loop (clamp, table), and on x86-64 an AVX2 clone of the
// common clamp-only case. Integer arithmetic: the same values as apply(), element by element.
#include "runtime/kernels/kernels.h"

#include <algorithm>

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
                int64_t hi, int32_t* out) {
  const int64_t half = int64_t(1) << (shift - 1);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = ((int64_t(acc[i]) * m + half) >> shift) + zp;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    out[i] = int32_t(v);
  }
}

// OutputStage::apply's table branch with the stage's fields read once (same arithmetic).
template <typename Acc>
void lutRun(const OutputStage& s, const Multiplier& m, const Acc* acc, int64_t n, int32_t* out) {
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
    out[k] = static_cast<int32_t>(clampTo((y + yHalf) >> yShift, s.qmin, s.qmax));
  }
}

// The clamp-only branch for any accumulator (requantize's own 64/128-bit choice per value).
template <typename Acc>
void clampRun(const OutputStage& s, const Multiplier& m, const Acc* acc, int64_t n, int32_t* out) {
  const int64_t zp = s.outZp, lo = s.qmin, hi = s.qmax;
  for (int64_t k = 0; k < n; ++k)
    out[k] = static_cast<int32_t>(clampTo(requantize(int64_t(acc[k]), m) + zp, lo, hi));
}

template <typename Acc>
void applyStageRun(const OutputStage& s, const Acc* acc, int64_t n, int64_t channel, int32_t* out) {
  const Multiplier& m = s.mult[s.perChannel ? channel : 0];
  if (s.lut) return lutRun(s, m, acc, n, out);
  if (!s.multNeg) return clampRun(s, m, acc, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = s.apply(acc[i], channel);
}

}  // namespace

void applyStage(const OutputStage& s, const int32_t* acc, int64_t n, int64_t channel,
                int32_t* out) {
  const Multiplier& m = s.mult[s.perChannel ? channel : 0];
  if (!s.lut && !s.multNeg && m.shift >= 1) {
    clampRun32(acc, n, m.m, m.shift, s.outZp, s.qmin, s.qmax, out);
    return;
  }
  applyStageRun(s, acc, n, channel, out);
}

void applyStage(const OutputStage& s, const int64_t* acc, int64_t n, int64_t channel,
                int32_t* out) {
  const Multiplier& m = s.mult[s.perChannel ? channel : 0];
  if (!s.lut && !s.multNeg && m.shift >= 1) {
    // Accumulators within int32 (the usual case) take the vectorized int32 run, in pieces.
    constexpr int64_t kRun = 256;
    int32_t narrow[kRun];
    for (int64_t i0 = 0; i0 < n; i0 += kRun) {
      const int64_t len = std::min(kRun, n - i0);
      bool fits = true;
      for (int64_t i = 0; i < len; ++i) {
        const int64_t v = acc[i0 + i];
        fits = fits && v >= INT32_MIN && v <= INT32_MAX;
        narrow[i] = int32_t(v);
      }
      if (fits)
        clampRun32(narrow, len, m.m, m.shift, s.outZp, s.qmin, s.qmax, out + i0);
      else
        clampRun(s, m, acc + i0, len, out + i0);
    }
    return;
  }
  applyStageRun(s, acc, n, channel, out);
}

}  // namespace kiln::rt
