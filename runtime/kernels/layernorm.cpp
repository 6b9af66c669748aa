// Integer layer normalization. Per row of len values x' = x - inZp (exact int64 sums):
//   S1 = sum x',  S2 = sum x'^2,  D = len * S2 - S1^2 + epsQ   (= len^2 (var + eps) / s_in^2)
//   n = len * x' - S1                                          (= len (x - mean) / s_in)
// so the normalized value is n / sqrt(D). Its row multiplier m / 2^shift ~ 2^normBits / sqrt(D)
// is computed exactly with integers (a 128-bit division and an integer square root, no float),
// z = requantize(n, m, shift) has unit 2^-normBits, and acc = z * gamma[k] + beta[k] goes through
// the shared output stage (channel k = position in the row, per-element gamma scales).
#include <algorithm>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

uint64_t isqrt64(uint64_t v) {
  // Digit-by-digit (base 4) square root: exact floor(sqrt(v)).
  uint64_t res = 0, bit = uint64_t(1) << 62;
  while (bit > v) bit >>= 2;
  while (bit) {
    if (v >= res + bit) {
      v -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}

Multiplier invSqrtMultiplier(int64_t d, int32_t normBits) {
  // m = floor(2^(normBits + s) / sqrt(d)) = floor(sqrt(floor(2^(2 normBits + 2 s) / d))), and m in
  // [2^30, 2^31) exactly when that quotient lies in [2^60, 2^62). Start near the answer and step.
  int bits = 0;
  while (bits < 63 && (int64_t(1) << bits) <= d) ++bits;  // d in [2^(bits-1), 2^bits)
  int32_t s = 31 - normBits + bits / 2;
  for (;;) {
    const int e = 2 * normBits + 2 * s;
    const unsigned __int128 q =
        (static_cast<unsigned __int128>(1) << e) / static_cast<unsigned __int128>(d);
    if (q >= (static_cast<unsigned __int128>(1) << 62)) {
      --s;
    } else if (q < (static_cast<unsigned __int128>(1) << 60)) {
      ++s;
    } else {
      return {int32_t(isqrt64(uint64_t(q))), s};
    }
  }
}

namespace {

void layerNormRow(const LayerNormParams& p, const Act* src, Act* dst) {
  int64_t s1 = 0, s2 = 0;
  for (int64_t k = 0; k < p.len; ++k) {
    const int64_t x = int64_t(src[k]) - p.inZp;
    s1 += x;
    s2 += x * x;
  }
  const int64_t d = p.len * s2 - s1 * s1 + p.epsQ;
  // d == 0 only for a constant row with epsQ == 0: every n is 0, so is z.
  const Multiplier inv = d > 0 ? invSqrtMultiplier(d, p.normBits) : Multiplier{0, 0};
  for (int64_t k = 0; k < p.len; ++k) {
    const int64_t n = p.len * (int64_t(src[k]) - p.inZp) - s1;
    const int64_t z = requantize(n, inv);
    dst[k] = p.out.apply(z * p.gamma[k] + p.beta[k], k);
  }
}

}  // namespace

void layerNorm(const LayerNormParams& p, const Act* in, Act* out) {
  // Rows are independent: split over the current pool in parts of at least ~8 k elements.
  parallelRanges(p.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(p.len, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r)
                     layerNormRow(p, in + r * p.len, out + r * p.len);
                 });
}

}  // namespace kiln::rt
