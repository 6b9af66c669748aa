// AVX2+FMA float GEMM for x86-64, compiled per function with target attributes (no global -m
// flags, so the binary still runs on any x86-64; gemm.cpp only calls it when the CPU has AVX2 and
// FMA). Blocked like BLIS: B packed in KC x 16 panels, A in 6 x KC panels, a 6x16 register tile.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "compiler/emulator/float_kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::float_kernels {

#if defined(__x86_64__)

#define KILN_AVX2 __attribute__((target("avx2,fma")))

namespace {

constexpr int64_t MR = 6, NR = 16, KC = 256, MC = 120, NC = 256;

// Per call of the macro kernel: first K block (start from the bias), last K block (clamp).
struct Block {
  bool init, clamp;
  float lo, hi;
};

// c[6x16] (row stride ldc) = bias (or 0) + a*b when blk.init, else c += a*b; then clamped to
// [lo, hi] when blk.clamp. a: kc x 6 panel, b: kc x 16 panel.
KILN_AVX2 void kernel6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                          const Block& blk, const float* bias) {
  const bool init = blk.init;
  __m256 acc[MR][2];
  for (int i = 0; i < MR; ++i) {
    if (!init) {
      acc[i][0] = _mm256_loadu_ps(c + i * ldc);
      acc[i][1] = _mm256_loadu_ps(c + i * ldc + 8);
    } else {
      acc[i][0] = acc[i][1] = bias ? _mm256_set1_ps(bias[i]) : _mm256_setzero_ps();
    }
  }
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  if (blk.clamp) {
    const __m256 lo = _mm256_set1_ps(blk.lo), hi = _mm256_set1_ps(blk.hi);
    for (int i = 0; i < MR; ++i)
      for (int h = 0; h < 2; ++h) acc[i][h] = _mm256_min_ps(_mm256_max_ps(acc[i][h], lo), hi);
  }
  for (int i = 0; i < MR; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
  }
}

// B[k0.., j0..] (kc x nc) into 16-wide panels (panel p at out + p * kc * 16), zero padded on the
// right. Row by row, so the source is read sequentially (one TLB page run per row, not per panel).
KILN_AVX2 void packB(const float* B, int64_t ldb, int64_t kc, int64_t nc, float* out) {
  const int64_t full = nc / NR * NR, rest = nc - full;
  for (int64_t k = 0; k < kc; ++k) {
    const float* src = B + k * ldb;
    float* dst = out + k * NR;
    for (int64_t j = 0; j < full; j += NR, dst += kc * NR) {
      _mm256_store_ps(dst, _mm256_loadu_ps(src + j));
      _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + j + 8));
    }
    if (rest) {
      for (int64_t c = 0; c < rest; ++c) dst[c] = src[full + c];
      for (int64_t c = rest; c < NR; ++c) dst[c] = 0.f;
    }
  }
}

// A (mc x kc, element (i, k) at A[i * rs + k * cs]) into 6-tall panels, zero padded at the bottom.
void packA(const float* A, int64_t rs, int64_t cs, int64_t mc, int64_t kc, float* out) {
  for (int64_t i = 0; i < mc; i += MR) {
    const int64_t mr = std::min(MR, mc - i);
    const float* src = A + i * rs;
    for (int64_t k = 0; k < kc; ++k, out += MR) {
      const float* col = src + k * cs;
      for (int64_t r = 0; r < mr; ++r) out[r] = col[r * rs];
      for (int64_t r = mr; r < MR; ++r) out[r] = 0.f;
    }
  }
}

// One packed mc x nc block of C.
KILN_AVX2 void macroKernel(int64_t mc, int64_t nc, int64_t kc, const float* pa, const float* pb,
                           float* C, int64_t ldc, const Block& blk, const float* bias) {
  alignas(32) float tile[MR * NR];
  float tileBias[MR];
  for (int64_t j = 0; j < nc; j += NR) {
    const int64_t nr = std::min(NR, nc - j);
    const float* bp = pb + j * kc;
    for (int64_t i = 0; i < mc; i += MR) {
      const int64_t mr = std::min(MR, mc - i);
      const float* ap = pa + i * kc;
      float* c = C + i * ldc + j;
      const float* bi = bias ? bias + i : nullptr;
      if (mr == MR && nr == NR) {
        kernel6x16(kc, ap, bp, c, ldc, blk, bi);
        continue;
      }
      // Edge tile: through a full-size scratch tile.
      for (int64_t r = 0; r < mr; ++r) {
        if (!blk.init) std::copy(c + r * ldc, c + r * ldc + nr, tile + r * NR);
        tileBias[r] = bi ? bi[r] : 0.f;
      }
      for (int64_t r = mr; r < MR; ++r) tileBias[r] = 0.f;
      kernel6x16(kc, ap, bp, tile, NR, blk, tileBias);
      for (int64_t r = 0; r < mr; ++r) std::copy(tile + r * NR, tile + r * NR + nr, c + r * ldc);
    }
  }
}

}  // namespace

bool gemmAvx2Available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void gemmAvx2(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA,
              const float* B, int64_t ldb, float* C, int64_t ldc, const float* rowBias, float lo,
              float hi) {
  // Loop order pc (K) -> jc (N) -> ic (M): all of A's K-block is packed once, B in NC-wide blocks
  // that stay in L2 while every row panel of C passes over them.
  thread_local std::vector<float> pa, pb;
  const int64_t kcMax = std::min(K, KC), ncMax = std::min((N + NR - 1) / NR * NR, NC);
  const int64_t mPad = (M + MR - 1) / MR * MR;
  if (int64_t(pa.size()) < mPad * kcMax + 8) pa.resize(mPad * kcMax + 8);
  if (int64_t(pb.size()) < ncMax * kcMax + 8) pb.resize(ncMax * kcMax + 8);
  const auto aligned = [](std::vector<float>& v) {  // 32-byte aligned start for the panels
    return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(v.data()) + 31) & ~uintptr_t(31));
  };
  float *pA = aligned(pa), *pB = aligned(pb);
  for (int64_t pc = 0; pc < K; pc += KC) {
    const int64_t kc = std::min(KC, K - pc);
    const Block blk{pc == 0, pc + kc == K && (lo > -HUGE_VALF || hi < HUGE_VALF), lo, hi};
    packA(A + pc * csA, rsA, csA, M, kc, pA);
    for (int64_t jc = 0; jc < N; jc += NC) {
      const int64_t nc = std::min(NC, N - jc);
      packB(B + pc * ldb + jc, ldb, kc, nc, pB);
      for (int64_t ic = 0; ic < M; ic += MC)
        macroKernel(std::min(MC, M - ic), nc, kc, pA + ic * kc, pB, C + ic * ldc + jc, ldc, blk,
                    rowBias ? rowBias + ic : nullptr);
    }
  }
}

#else  // not x86-64: gemm.cpp never calls these.

bool gemmAvx2Available() {
  return false;
}

void gemmAvx2(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t,
              float*, int64_t, const float*, float, float) {
  throw std::logic_error("gemmAvx2 called on a non-x86-64 build");
}

#endif

}  // namespace kiln::float_kernels
