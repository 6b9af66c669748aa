// Integer MatMul of two run-time operands: acc = sum_k (a - zpA)(b - zpB) in int64 (unit
// s_a * s_b), then the shared output stage. Batch dimensions broadcast numpy-style. Output rows
// (batch x m) are independent: they are split over the current thread pool.
#include <algorithm>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

void matmul(const MatMulParams& p, const Act* a, const Act* b, Act* out) {
  int64_t nb = 1;
  for (int64_t d : p.batch) nb *= d;
  const int64_t r = int64_t(p.batch.size());
  // Parts of at least ~8 k multiply-accumulates.
  const int64_t rowWork = std::max<int64_t>(1, p.n * p.k);
  parallelRanges(nb * p.m, std::max<int64_t>(1, 8192 / rowWork), [&](int64_t r0, int64_t r1) {
    for (int64_t br = r0; br < r1; ++br) {
      const int64_t i = br / p.m, row = br % p.m;
      int64_t rem = i, ia = 0, ib = 0;
      for (int64_t d = r - 1; d >= 0; --d) {
        const int64_t idx = rem % p.batch[d];
        rem /= p.batch[d];
        ia += idx * p.batchStrideA[d];
        ib += idx * p.batchStrideB[d];
      }
      const Act* A = a + ia * p.m * p.k;
      const Act* B = b + ib * p.k * p.n;
      Act* O = out + i * p.m * p.n;
      for (int64_t col = 0; col < p.n; ++col) {
        int64_t acc = 0;
        for (int64_t kk = 0; kk < p.k; ++kk)
          acc += (int64_t(A[row * p.k + kk]) - p.zpA) * (int64_t(B[kk * p.n + col]) - p.zpB);
        O[row * p.n + col] = p.out.apply(acc, 0);
      }
    }
  });
}

}  // namespace kiln::rt
