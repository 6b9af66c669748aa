// The integer multiply-accumulate loops, compiled twice on x86-64 (AVX2 and the baseline, chosen
// at load time): integer arithmetic, so both give the same bits.
#include "runtime/kernels/conv_loops.h"

#include <mutex>

#include "runtime/kernels/thread_pool.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_INT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KILN_INT_CLONES
#endif

namespace kiln::rt::loops {

KILN_INT_CLONES
void axpy4(const int32_t* c, int64_t n, int32_t x0, int32_t x1, int32_t x2, int32_t x3, int32_t* a0,
           int32_t* a1, int32_t* a2, int32_t* a3) {
  for (int64_t q = 0; q < n; ++q) {
    const int32_t v = c[q];
    a0[q] += x0 * v;
    a1[q] += x1 * v;
    a2[q] += x2 * v;
    a3[q] += x3 * v;
  }
}

KILN_INT_CLONES
void minMax(const Act* x, int64_t n, int32_t& lo, int32_t& hi) {
  Act l = UINT16_MAX, h = 0;
  for (int64_t i = 0; i < n; ++i) {
    l = x[i] < l ? x[i] : l;
    h = x[i] > h ? x[i] : h;
  }
  lo = l, hi = h;
}

int64_t maxAbsDiff(const Act* x, int64_t n, int32_t zp) {
  if (n == 0) return 0;
  int32_t lo, hi;
  minMax(x, n, lo, hi);
  const int64_t a = int64_t(lo) - zp, b = int64_t(hi) - zp;
  return std::max(a < 0 ? -a : a, b < 0 ? -b : b);
}

int64_t maxAbsDiffOnThreads(const Act* x, int64_t n, int32_t zp) {
  std::mutex mu;
  int64_t largest = 0;
  parallelRanges(n, int64_t(1) << 16, [&](int64_t b, int64_t e) {
    const int64_t m = maxAbsDiff(x + b, e - b, zp);
    const std::lock_guard<std::mutex> lock(mu);
    largest = std::max(largest, m);
  });
  return largest;
}

int64_t inputMaxAbsDiff(const ConvParams& p, const Act* x, int64_t n) {
  if (p.inBits <= 8 && p.inZp >= 0 && p.inZp <= 255) return std::max(p.inZp, 255 - p.inZp);
  return maxAbsDiffOnThreads(x, n, p.inZp);
}

KILN_INT_CLONES
void axpy32(const int32_t* c, int64_t n, int32_t x, int32_t* a) {
  for (int64_t q = 0; q < n; ++q) a[q] += x * c[q];
}

KILN_INT_CLONES
void axpyAct32(const Act* c, int32_t zp, int64_t n, int32_t x, int32_t* a) {
  for (int64_t q = 0; q < n; ++q) a[q] += x * (int32_t(c[q]) - zp);
}

KILN_INT_CLONES
void axpyAct64(const Act* c, int32_t zp, int64_t n, int64_t x, int64_t* a) {
  for (int64_t q = 0; q < n; ++q) a[q] += x * (int64_t(c[q]) - zp);
}

KILN_INT_CLONES
void axpy64(const int32_t* c, int64_t n, int64_t x, int64_t* a) {
  for (int64_t q = 0; q < n; ++q) a[q] += x * int64_t(c[q]);
}

}  // namespace kiln::rt::loops
