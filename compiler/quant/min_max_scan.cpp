#include "compiler/quant/min_max_scan.h"

#include "common/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::quant {

namespace {

void scanPortable(const float* p, size_t n, float& lo, float& hi) {
  float a = lo, b = hi;
  for (size_t i = 0; i < n; ++i) {
    const float v = p[i];
    a = v < a ? v : a;
    b = v > b ? v : b;
  }
  lo = a;
  hi = b;
}

#if defined(__x86_64__)
// Per lane, minps(v, a) is `v < a ? v : a` and maxps(v, b) is `v > b ? v : b` (NaN keeps the
// second operand), so every lane holds the loop's result over its values; the lanes' results
// then combine by the same rule. The value is the loop's (the minimum of a set); only a zero's
// sign may depend on the order: the loop keeps the first value equal to its result (later ones
// are not strictly smaller), i.e. the starting value if it is that zero, else the first zero in
// the buffer, which is then looked up.
__attribute__((target("avx2"))) void scanAvx2(const float* p, size_t n, float& lo, float& hi) {
  const float lo0 = lo, hi0 = hi;
  __m256 a[4], b[4];
  for (int k = 0; k < 4; ++k) a[k] = _mm256_set1_ps(lo0), b[k] = _mm256_set1_ps(hi0);
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) {
      const __m256 v = _mm256_loadu_ps(p + i + 8 * k);
      a[k] = _mm256_min_ps(v, a[k]);
      b[k] = _mm256_max_ps(v, b[k]);
    }
  alignas(32) float la[32], lb[32];
  for (int k = 0; k < 4; ++k) _mm256_store_ps(la + 8 * k, a[k]), _mm256_store_ps(lb + 8 * k, b[k]);
  float mn = lo0, mx = hi0;
  for (int j = 0; j < 32; ++j) {
    mn = la[j] < mn ? la[j] : mn;
    mx = lb[j] > mx ? lb[j] : mx;
  }
  scanPortable(p + i, n - i, mn, mx);
  auto firstZero = [&](float start) {
    if (start == 0.f) return start;
    for (size_t j = 0; j < n; ++j)
      if (p[j] == 0.f) return p[j];
    return start;  // not reached: the result is a zero of the buffer or the start
  };
  if (mn == 0.f) mn = firstZero(lo0);
  if (mx == 0.f) mx = firstZero(hi0);
  lo = mn;
  hi = mx;
}
#endif

}  // namespace

void scanMinMax(const float* p, size_t n, float& lo, float& hi) {
#if defined(__x86_64__)
  // A NaN start stays NaN in the loop (no comparison with it holds); the lanes would differ.
  if (n >= 64 && lo == lo && hi == hi && hostHasAvx2()) return scanAvx2(p, n, lo, hi);
#endif
  scanPortable(p, n, lo, hi);
}

}  // namespace kiln::quant
