// The output stage over a run of accumulators of one channel: the branches of
// OutputStage::apply hoisted out of the loop, and on x86-64 an AVX2 clone of the common
// clamp-only case. Integer arithmetic: the same values as apply(), element by element.
#include "runtime/kernels/kernels.h"

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

}  // namespace

void applyStage(const OutputStage& s, const int32_t* acc, int64_t n, int64_t channel,
                int32_t* out) {
  const Multiplier& m = s.mult[s.perChannel ? channel : 0];
  if (!s.lut && !s.multNeg && m.shift >= 1) {
    clampRun32(acc, n, m.m, m.shift, s.outZp, s.qmin, s.qmax, out);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = s.apply(acc[i], channel);
}

void applyStage(const OutputStage& s, const int64_t* acc, int64_t n, int64_t channel,
                int32_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = s.apply(acc[i], channel);
}

}  // namespace kiln::rt
