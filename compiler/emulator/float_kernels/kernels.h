// Float kernels: one function per layer family, over FloatBuffers. The activation fused into a
// layer is applied by the executor afterwards (applyFusedActivation).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>

#include "compiler/emulator/float_kernels/float_buffer.h"
#include "compiler/ir/graph.h"

namespace kiln::float_kernels {

using Inputs = std::vector<const FloatBuffer*>;

/// f(part) for part in [0, parts) on the current worker pool (rt::ThreadPool::current(), set by
/// the caller, e.g. kiln optimize), or inline without one. Each part runs with no pool current,
/// so kernels it calls run inline. Only for parts whose results do not depend on the split: every
/// output value is computed by the same operations whichever part computes it.
void forParts(int64_t parts, const std::function<void(int64_t)>& f);
/// The current pool's thread count (1 without one).
int poolThreads();

/// conv, dw. With fuseClamp, a relu / relu6 / clip activation is applied inside the kernel;
/// returns true when it was (the caller then skips applyFusedActivation).
bool conv(const Layer& l, const Inputs& in, FloatBuffer& out, bool fuseClamp = false);
void deconv(const Layer& l, const Inputs& in, FloatBuffer& out);
void fc(const Layer& l, const Inputs& in, FloatBuffer& out);
void matmul(const Layer& l, const Inputs& in, FloatBuffer& out);
void elementwise(const Layer& l, const Inputs& in, FloatBuffer& out);  // ew_*
void normalization(const Layer& l, const Inputs& in, FloatBuffer& out);
void pool(const Layer& l, const Inputs& in, FloatBuffer& out);  // maxpool, avgpool
void globalAvgPool(const Layer& l, const Inputs& in, FloatBuffer& out);
void reduce(const Layer& l, const Inputs& in, FloatBuffer& out);  // reduce_*
void concat(const Layer& l, const Inputs& in, FloatBuffer& out);
void slice(const Layer& l, const Inputs& in, FloatBuffer& out);
void pad(const Layer& l, const Inputs& in, FloatBuffer& out);
void resize(const Layer& l, const Inputs& in, FloatBuffer& out);
void softmax(const Layer& l, const Inputs& in, FloatBuffer& out);
void layerNorm(const Layer& l, const Inputs& in, FloatBuffer& out);
void depthToSpace(const Layer& l, const Inputs& in, FloatBuffer& out);
void spaceToDepth(const Layer& l, const Inputs& in, FloatBuffer& out);
void formatConversion(const Layer& l, const Inputs& in, FloatBuffer& out);  // common/yuv.h
void colorConversion(const Layer& l, const Inputs& in, FloatBuffer& out);

/// C[M,N] = A[M,K] * B[K,N] (+ rowBias[m] when given), then clamped to [lo, hi]; all row-major,
/// C row stride ldc. A(m,k) is A[m * rsA + k * csA], so a transposed A is just swapped strides.
/// Uses an AVX2+FMA kernel when the CPU has one (chosen at run time), Eigen otherwise.
void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
          int64_t ldb, float* C, int64_t ldc, const float* rowBias, float lo = -HUGE_VALF,
          float hi = HUGE_VALF);
/// The AVX2+FMA implementation (gemm_avx2.cpp); only call it when gemmAvx2Available().
bool gemmAvx2Available();
void gemmAvx2(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA,
              const float* B, int64_t ldb, float* C, int64_t ldc, const float* rowBias, float lo,
              float hi);

/// Applies l.activation in place (PRelu slopes broadcast from the prelu_slope parameter).
void applyFusedActivation(const Layer& l, FloatBuffer& buf);
/// For relu / relu6 / clip: the clamp range [lo, hi] equivalent to `a`, and true; else false.
bool clampRange(const Activation& a, float& lo, float& hi);
/// Applies a (not PRelu) to n floats in place, one loop per activation kind.
void applyActivationInPlace(const Activation& a, float* p, size_t n);

/// For broadcasting: the strides of `s` seen from an output of rank `rank` (0 on broadcast dims).

/// out = f(a, b) with NumPy broadcasting; out.shape set and out.data sized by the caller. Adjacent
/// dimensions that broadcast alike are merged, so the inner loop runs over long rows (e.g. a
/// per-channel [1,C,1,1] operand becomes one scalar per H*W row).
template <typename F>
void broadcastBinary(const FloatBuffer& a, const FloatBuffer& b, FloatBuffer& out, F f) {
  const size_t n = out.data.size();
  const float *pa = a.data.data(), *pb = b.data.data();
  float* po = out.data.data();
  const auto row = [&](int64_t len, int64_t sa, int64_t sb, const float* x, const float* y,
                       float* o) {
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], y[i]);
    } else if (sa == 1 && sb == 0) {
      const float v = *y;
      for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], v);
    } else if (sa == 0 && sb == 1) {
      const float v = *x;
      for (int64_t i = 0; i < len; ++i) o[i] = f(v, y[i]);
    } else {
      for (int64_t i = 0; i < len; ++i) o[i] = f(x[i * sa], y[i * sb]);
    }
  };
  if (n == 0) return;
  if (a.data.size() == n && b.data.size() == n) return row(int64_t(n), 1, 1, pa, pb, po);
  if (a.data.size() == n && b.data.size() == 1) return row(int64_t(n), 1, 0, pa, pb, po);
  if (a.data.size() == 1 && b.data.size() == n) return row(int64_t(n), 0, 1, pa, pb, po);
  const size_t r = out.shape.size();
  const auto as = broadcastStrides(a.shape, out.shape), bs = broadcastStrides(b.shape, out.shape);
  // Merged dims, innermost first: length and the two source strides.
  std::vector<int64_t> len, sa, sb;
  for (int d = int(r) - 1; d >= 0; --d) {
    if (out.shape[d] == 1) continue;
    if (!len.empty() && as[d] == sa.back() * len.back() && bs[d] == sb.back() * len.back()) {
      len.back() *= out.shape[d];
      continue;
    }
    len.push_back(out.shape[d]);
    sa.push_back(as[d]);
    sb.push_back(bs[d]);
  }
  if (len.empty()) return row(1, 0, 0, pa, pb, po);
  const size_t m = len.size();
  std::vector<int64_t> idx(m, 0);
  int64_t ia = 0, ib = 0;
  for (size_t k = 0; k < n; k += size_t(len[0])) {
    row(len[0], sa[0], sb[0], pa + ia, pb + ib, po + k);
    for (size_t d = 1; d < m; ++d) {
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < len[d]) break;
      ia -= sa[d] * len[d];
      ib -= sb[d] * len[d];
      idx[d] = 0;
    }
  }
}

}  // namespace kiln::float_kernels
