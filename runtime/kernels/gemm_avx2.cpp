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

}  // namespace kiln::rt::gemm

#endif
