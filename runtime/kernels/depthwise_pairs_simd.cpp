// The micro-kernels of the pair-row depthwise kernel (depthwise_pairs.h) for AVX2 and NEON.
// Rows: AVX2 vpmaddwd of 8 pair words by the broadcast weight pair, two such vectors (16 output
// columns) per step; NEON smull/smull2 + addp per 4 columns. Both are the exact pair sums of
// pairRowsPortable (every partial sum fits int32: the caller's bound). Pair words: AVX2
// vpunpcklwd/vpunpckhwd of the row and the row d further on, 16 words per step, the words of
// pairWordsPortable. Even/odd split (AVX2): each 8 words by the even and the odd weight pair, the
// two sums interleaved back into column order before the store (NEON: vst2q).
#include "runtime/kernels/depthwise_pairs.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace kiln::rt::dw {

static_assert(kBlock == 8, "the row micro-kernels are written for blocks of 8 columns");

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) void pairRowsAvx2(const int32_t* const* rows, const int32_t* w,
                                                  int64_t nr, int64_t width, int32_t bias,
                                                  int32_t* acc) {
  const __m256i b = _mm256_set1_epi32(bias);
  int64_t ox = 0;
  for (; ox + 16 <= width; ox += 16) {
    __m256i a0 = b, a1 = b;
    for (int64_t r = 0; r < nr; ++r) {
      const __m256i wv = _mm256_set1_epi32(w[r]);
      const int32_t* row = rows[r] + ox;
      a0 = _mm256_add_epi32(
          a0, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)), wv));
      a1 = _mm256_add_epi32(
          a1, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 8)), wv));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox), a0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox + 8), a1);
  }
  for (; ox < width; ox += 8) {
    __m256i a0 = b;
    for (int64_t r = 0; r < nr; ++r)
      a0 = _mm256_add_epi32(
          a0, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[r] + ox)),
                                _mm256_set1_epi32(w[r])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox), a0);
  }
}

namespace {

// The even columns e (0, 2, .., 14) and odd columns o (1, 3, .., 15) of 16 outputs, in order.
__attribute__((target("avx2"))) inline void storeInterleaved(__m256i e, __m256i o, int32_t* acc) {
  const __m256i lo = _mm256_unpacklo_epi32(e, o);  // columns 0-3 | 8-11
  const __m256i hi = _mm256_unpackhi_epi32(e, o);  // columns 4-7 | 12-15
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc), _mm256_permute2x128_si256(lo, hi, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
}

}  // namespace

__attribute__((target("avx2"))) void pairRowsEvenOddAvx2(const int32_t* const* rows,
                                                         const int32_t* we, const int32_t* wo,
                                                         int64_t nk, int64_t np, int64_t half,
                                                         int32_t bias, int32_t* acc) {
  const __m256i b = _mm256_set1_epi32(bias);
  int64_t i = 0;
  for (; i + 16 <= half; i += 16) {  // 32 columns: four independent sums
    __m256i e0 = b, o0 = b, e1 = b, o1 = b;
    for (int64_t ky = 0, r = 0; ky < nk; ++ky)
      for (int64_t t = 0; t < np; ++t, ++r) {
        const __m256i wev = _mm256_set1_epi32(we[r]), wov = _mm256_set1_epi32(wo[r]);
        const int32_t* row = rows[ky] + i + t;
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row));
        const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 8));
        e0 = _mm256_add_epi32(e0, _mm256_madd_epi16(x0, wev));
        o0 = _mm256_add_epi32(o0, _mm256_madd_epi16(x0, wov));
        e1 = _mm256_add_epi32(e1, _mm256_madd_epi16(x1, wev));
        o1 = _mm256_add_epi32(o1, _mm256_madd_epi16(x1, wov));
      }
    storeInterleaved(e0, o0, acc + 2 * i);
    storeInterleaved(e1, o1, acc + 2 * i + 16);
  }
  for (; i < half; i += 8) {
    __m256i e0 = b, o0 = b;
    for (int64_t ky = 0, r = 0; ky < nk; ++ky)
      for (int64_t t = 0; t < np; ++t, ++r) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[ky] + i + t));
        e0 = _mm256_add_epi32(e0, _mm256_madd_epi16(x0, _mm256_set1_epi32(we[r])));
        o0 = _mm256_add_epi32(o0, _mm256_madd_epi16(x0, _mm256_set1_epi32(wo[r])));
      }
    storeInterleaved(e0, o0, acc + 2 * i);
  }
}

__attribute__((target("avx2"))) void pairWordsAvx2(const int16_t* x, int64_t d, int64_t n,
                                                   int32_t* q) {
  for (int64_t j = 0; j < n; j += 16) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j + d));
    const __m256i lo = _mm256_unpacklo_epi16(a, b);  // words 0-3 | 8-11
    const __m256i hi = _mm256_unpackhi_epi16(a, b);  // words 4-7 | 12-15
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + j), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + j + 8),
                        _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}
#endif

#if defined(__aarch64__)
void pairRowsNeon(const int32_t* const* rows, const int32_t* w, int64_t nr, int64_t width,
                  int32_t bias, int32_t* acc) {
  for (int64_t ox = 0; ox < width; ox += 8) {
    int32x4_t a0 = vdupq_n_s32(bias), a1 = a0;
    for (int64_t r = 0; r < nr; ++r) {
      const int16x8_t wv = vreinterpretq_s16_s32(vdupq_n_s32(w[r]));
      const int16x8_t x0 = vreinterpretq_s16_s32(vld1q_s32(rows[r] + ox));
      const int16x8_t x1 = vreinterpretq_s16_s32(vld1q_s32(rows[r] + ox + 4));
      a0 = vaddq_s32(
          a0, vpaddq_s32(vmull_s16(vget_low_s16(x0), vget_low_s16(wv)), vmull_high_s16(x0, wv)));
      a1 = vaddq_s32(
          a1, vpaddq_s32(vmull_s16(vget_low_s16(x1), vget_low_s16(wv)), vmull_high_s16(x1, wv)));
    }
    vst1q_s32(acc + ox, a0);
    vst1q_s32(acc + ox + 4, a1);
  }
}

void pairRowsEvenOddNeon(const int32_t* const* rows, const int32_t* we, const int32_t* wo,
                         int64_t nk, int64_t np, int64_t half, int32_t bias, int32_t* acc) {
  for (int64_t i = 0; i < half; i += 8) {  // 16 columns
    int32x4_t e0 = vdupq_n_s32(bias), o0 = e0, e1 = e0, o1 = e0;
    for (int64_t ky = 0, r = 0; ky < nk; ++ky)
      for (int64_t t = 0; t < np; ++t, ++r) {
        const int16x8_t wev = vreinterpretq_s16_s32(vdupq_n_s32(we[r]));
        const int16x8_t wov = vreinterpretq_s16_s32(vdupq_n_s32(wo[r]));
        const int32_t* row = rows[ky] + i + t;
        const int16x8_t x0 = vreinterpretq_s16_s32(vld1q_s32(row));
        const int16x8_t x1 = vreinterpretq_s16_s32(vld1q_s32(row + 4));
        e0 = vaddq_s32(e0, vpaddq_s32(vmull_s16(vget_low_s16(x0), vget_low_s16(wev)),
                                      vmull_high_s16(x0, wev)));
        o0 = vaddq_s32(o0, vpaddq_s32(vmull_s16(vget_low_s16(x0), vget_low_s16(wov)),
                                      vmull_high_s16(x0, wov)));
        e1 = vaddq_s32(e1, vpaddq_s32(vmull_s16(vget_low_s16(x1), vget_low_s16(wev)),
                                      vmull_high_s16(x1, wev)));
        o1 = vaddq_s32(o1, vpaddq_s32(vmull_s16(vget_low_s16(x1), vget_low_s16(wov)),
                                      vmull_high_s16(x1, wov)));
      }
    // vst2q interleaves the even and odd sums back into column order.
    vst2q_s32(acc + 2 * i, (int32x4x2_t{{e0, o0}}));
    vst2q_s32(acc + 2 * i + 8, (int32x4x2_t{{e1, o1}}));
  }
}
#endif

}  // namespace kiln::rt::dw
