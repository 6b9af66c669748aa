// The one requantization function of Kiln. Every rescaling between integer domains in the
// quantized emulation and in the runtime goes through it (see docs/arithmetic.md).
//
//   requantize(acc, m, shift) = floor((acc * m + 2^(shift-1)) / 2^shift)
//
// i.e. acc * m / 2^shift rounded to the nearest integer, ties toward +infinity ("round half up"),
// with a single rounding. The product is formed in 128 bits, so any int64 accumulator and any
// 32-bit multiplier are exact. Worked example: -6 × 0.25 with m = 2^30, shift = 32:
// (-6·2^30 + 2^31) / 2^32 = -1.5 + 0.5 = -1.0 → -1 (a tie rounds up, toward +∞).
#pragma once

#include <cstdint>

namespace kiln::rt {

/// A real multiplier as m / 2^shift with m in [2^30, 2^31) (or 0), shift in [0, 62].
struct Multiplier {
  int32_t m = 0;
  int32_t shift = 0;
};

inline int64_t requantize(int64_t acc, int32_t m, int32_t shift) {
  if (acc >= INT32_MIN && acc <= INT32_MAX) {
    // The common case in 64 bits: |acc * m| <= 2^62 and the rounding half <= 2^61 cannot
    // overflow, and the arithmetic shift floors exactly like the 128-bit path below.
    const int64_t prod = acc * m;
    if (shift == 0) return prod;
    return (prod + (int64_t(1) << (shift - 1))) >> shift;
  }
  const __int128 prod = static_cast<__int128>(acc) * m;
  if (shift == 0) return static_cast<int64_t>(prod);
  const __int128 half = static_cast<__int128>(1) << (shift - 1);
  // Arithmetic right shift of a signed __int128 floors on GCC and Clang (two's complement).
  return static_cast<int64_t>((prod + half) >> shift);
}

inline int64_t requantize(int64_t acc, Multiplier mul) {
  return requantize(acc, mul.m, mul.shift);
}

/// Clamps to [lo, hi].
inline int64_t clampTo(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/// Division rounded to nearest, ties toward +infinity, for den != 0 (used by ew_div, softmax).
inline int64_t divRound(int64_t num, int64_t den) {
  if (den < 0) num = -num, den = -den;
  const int64_t q = num / den, r = num % den;  // truncates toward zero
  // floor((num + den/2) / den) with exact handling of odd den: compare 2r with den.
  const int64_t twiceR = 2 * r;
  if (num >= 0) return twiceR >= den ? q + 1 : q;
  return -twiceR > den ? q - 1 : q;
}

}  // namespace kiln::rt
