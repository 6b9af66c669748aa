// Float GEMM entry point: picks the AVX2+FMA kernel once at run time when the CPU supports it
// (x86-64 only), otherwise runs the product with Eigen (baseline SSE2 / NEON builds).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <Eigen/Core>

#include "compiler/emulator/float_kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::float_kernels {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ColMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using OStride = Eigen::OuterStride<>;

void gemmEigen(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA,
               const float* B, int64_t ldb, float* C, int64_t ldc, const float* rowBias, float lo,
               float hi) {
  Eigen::Map<RowMat, 0, OStride> c(C, M, N, OStride(ldc));
  Eigen::Map<const RowMat, 0, OStride> b(B, K, N, OStride(ldb));
  if (csA == 1 || K == 1) {
    c.noalias() = Eigen::Map<const RowMat, 0, OStride>(A, M, K, OStride(rsA)) * b;
  } else if (rsA == 1 || M == 1) {
    c.noalias() = Eigen::Map<const ColMat, 0, OStride>(A, M, K, OStride(csA)) * b;
  } else {
    using S = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
    c.noalias() = Eigen::Map<const RowMat, 0, S>(A, M, K, S(rsA, csA)) * b;
  }
  if (rowBias)
    for (int64_t m = 0; m < M; ++m) c.row(m).array() += rowBias[m];
  if (lo > -HUGE_VALF || hi < HUGE_VALF)
    for (int64_t m = 0; m < M; ++m) {
      float* r = C + m * ldc;
      for (int64_t n = 0; n < N; ++n) r[n] = std::min(std::max(r[n], lo), hi);
    }
}

bool useAvx2() {
#if defined(__x86_64__)
  // KILN_FLOAT_GEMM=eigen forces the portable path (to test it, or to compare the two).
  static const bool ok =
      !(std::getenv("KILN_FLOAT_GEMM") && std::string(std::getenv("KILN_FLOAT_GEMM")) == "eigen") &&
      gemmAvx2Available();
  return ok;
#else
  return false;
#endif
}

}  // namespace

void forParts(int64_t parts, const std::function<void(int64_t)>& f) {
  rt::parallelFor(parts, [&](int64_t part) {
    const rt::ThreadPool::Scope inlineKernels(nullptr);
    f(part);
  });
}

int poolThreads() {
  return rt::currentThreads();
}

void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
          int64_t ldb, float* C, int64_t ldc, const float* rowBias, float lo, float hi) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n)
        C[m * ldc + n] = std::min(std::max(rowBias ? rowBias[m] : 0.f, lo), hi);
    return;
  }
  if (useAvx2()) {
    // Column blocks over the pool: each value of C is the same sum in the same order whatever
    // block computes it (the kernel's K blocking does not depend on N). Eigen's blocking does
    // depend on the shape, so the portable path stays whole.
    const int threads = poolThreads();
    const int64_t panels = (N + 15) / 16;
    const int64_t parts =
        threads > 1 && M * N * K >= (int64_t(1) << 20) ? std::min<int64_t>(2 * threads, panels) : 1;
    if (parts <= 1) return gemmAvx2(M, N, K, A, rsA, csA, B, ldb, C, ldc, rowBias, lo, hi);
    return forParts(parts, [&](int64_t p) {
      const int64_t n0 = p * panels / parts * 16, n1 = std::min(N, (p + 1) * panels / parts * 16);
      if (n1 > n0) gemmAvx2(M, n1 - n0, K, A, rsA, csA, B + n0, ldb, C + n0, ldc, rowBias, lo, hi);
    });
  }
  gemmEigen(M, N, K, A, rsA, csA, B, ldb, C, ldc, rowBias, lo, hi);
}

}  // namespace kiln::float_kernels
