// The AVX2 micro-kernel of the packed GEMM (gemm.h): 4 output channels x 16 columns in eight
// int32 accumulators; vpmaddwd forms each weight pair's two exact products and their sum.
// Compiled with a target attribute, so the binary still runs on any x86-64; gemm::panel calls it
// only when the CPU has AVX2.
#include "runtime/kernels/gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

namespace kiln::rt::gemm {

static_assert(kMR == 4 && kNR == 16, "the AVX2 micro-kernel is written for 4 x 16");

__attribute__((target("avx2"))) void panelAvx2(const int32_t* w, const int32_t* x,
                                               const PanelLayout& l, int64_t blocks,
                                               const int32_t* bias, int32_t* acc, int64_t ldacc) {
  const int64_t perTap = l.pairsPerTap, stride = l.pairStride;
  for (int64_t cb = 0; cb < blocks; ++cb) {
    __m256i c00 = _mm256_set1_epi32(bias[0]), c01 = c00;
    __m256i c10 = _mm256_set1_epi32(bias[1]), c11 = c10;
    __m256i c20 = _mm256_set1_epi32(bias[2]), c21 = c20;
    __m256i c30 = _mm256_set1_epi32(bias[3]), c31 = c30;
    const int32_t* wq = w;
    for (int64_t t = 0; t < l.taps; ++t) {
      const int32_t* xq = x + cb * l.blockStride + l.tapOffset[t];
      for (int64_t i = 0; i < perTap; ++i, xq += stride, wq += kMR) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
        const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 8));
        __m256i wv = _mm256_set1_epi32(wq[0]);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x0, wv));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x1, wv));
        wv = _mm256_set1_epi32(wq[1]);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x0, wv));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x1, wv));
        wv = _mm256_set1_epi32(wq[2]);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x0, wv));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x1, wv));
        wv = _mm256_set1_epi32(wq[3]);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x0, wv));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x1, wv));
      }
    }
    int32_t* a = acc + cb * kNR;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a), c00);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 8), c01);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + ldacc), c10);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + ldacc + 8), c11);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 2 * ldacc), c20);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 2 * ldacc + 8), c21);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 3 * ldacc), c30);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 3 * ldacc + 8), c31);
  }
}

// vpmaddwd of the eight pair words at p by w, with p as the instruction's memory operand: the
// compiler would otherwise keep the loaded words in a register, and the 4 x 24 kernel has none
// to spare (twelve accumulators, two loaded column vectors, one broadcast weight word).
__attribute__((target("avx2"), always_inline)) inline __m256i maddFromMemory(const int32_t* p,
                                                                             __m256i w) {
  __m256i r;
  asm("vpmaddwd %1, %2, %0" : "=x"(r) : "m"(*reinterpret_cast<const __m256i*>(p)), "x"(w));
  return r;
}

// One weight pair row of the 4 x 24 kernel: the three column vectors of pair word row xq by the
// four channels' weight words wq[0..3], added to c[m * 3 + v].
__attribute__((target("avx2"), always_inline)) inline void wideStep(const int32_t* xq,
                                                                    const int32_t* wq,
                                                                    __m256i (&c)[12]) {
  const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
  const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 8));
  for (int m = 0; m < 4; ++m) {
    const __m256i wv = _mm256_set1_epi32(wq[m]);
    c[m * 3] = _mm256_add_epi32(c[m * 3], _mm256_madd_epi16(x0, wv));
    c[m * 3 + 1] = _mm256_add_epi32(c[m * 3 + 1], _mm256_madd_epi16(x1, wv));
    c[m * 3 + 2] = _mm256_add_epi32(c[m * 3 + 2], maddFromMemory(xq + 16, wv));
  }
}

static_assert(kNRWide == 24, "the wide AVX2 micro-kernel is written for 4 x 24");

// 4 output channels x 24 columns: twelve accumulators, three panel reads (the third as a memory
// operand) and four broadcasts per pair, two pairs per loop step (32.5 instructions per 192
// products; the 4 x 16 kernel takes 27 per 128).
__attribute__((target("avx2"))) void panelWideAvx2(const int32_t* w, const int32_t* x,
                                                   const PanelLayout& l, int64_t blocks,
                                                   const int32_t* bias, int32_t* acc,
                                                   int64_t ldacc) {
  const int64_t perTap = l.pairsPerTap, stride = l.pairStride;
  for (int64_t cb = 0; cb < blocks; ++cb) {
    __m256i c[12];
    for (int m = 0; m < 4; ++m) c[m * 3] = c[m * 3 + 1] = c[m * 3 + 2] = _mm256_set1_epi32(bias[m]);
    const int32_t* wq = w;
    for (int64_t t = 0; t < l.taps; ++t) {
      const int32_t* xq = x + cb * l.blockStride + l.tapOffset[t];
      // The weights' end bounds the loop (one counter less than an index).
#pragma GCC unroll 2
      for (const int32_t* end = wq + perTap * kMR; wq != end; wq += kMR, xq += stride)
        wideStep(xq, wq, c);
    }
    int32_t* a = acc + cb * kNRWide;
    for (int m = 0; m < 4; ++m)
      for (int v = 0; v < 3; ++v)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + m * ldacc + v * 8), c[m * 3 + v]);
  }
}

}  // namespace kiln::rt::gemm

#endif
