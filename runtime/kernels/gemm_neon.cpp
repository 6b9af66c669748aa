// The NEON micro-kernel of the packed GEMM (gemm.h) for aarch64: per 4 columns, smull/smull2 of
// the (x0, x1) pairs by the (w0, w1) weight pair and a pairwise add give w0*x0 + w1*x1 exactly
// in int32 lanes. NEON is part of every AArch64 CPU.
#include "runtime/kernels/gemm.h"

#if defined(__aarch64__)
#include <arm_neon.h>

namespace kiln::rt::gemm {

static_assert(kMR == 4 && kNR == 16, "the NEON micro-kernel is written for 4 x 16");

void panelNeon(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
               const int32_t* bias, int32_t* acc, int64_t ldacc) {
  for (int64_t cb = 0; cb < blocks; ++cb) {
    int32x4_t c[kMR][4];
    for (int64_t m = 0; m < kMR; ++m)
      for (int64_t v = 0; v < 4; ++v) c[m][v] = vdupq_n_s32(bias[m]);
    const int32_t* wq = w;
    for (int64_t t = 0; t < l.taps; ++t) {
      const int32_t* xq = x + cb * l.blockStride + l.tapOffset[t];
      for (int64_t i = 0; i < l.pairsPerTap; ++i, xq += l.pairStride, wq += kMR) {
        int16x8_t xv[4];
        for (int64_t v = 0; v < 4; ++v) xv[v] = vreinterpretq_s16_s32(vld1q_s32(xq + 4 * v));
        for (int64_t m = 0; m < kMR; ++m) {
          const int16x8_t wv = vreinterpretq_s16_s32(vdupq_n_s32(wq[m]));
          for (int64_t v = 0; v < 4; ++v) {
            const int32x4_t lo = vmull_s16(vget_low_s16(xv[v]), vget_low_s16(wv));
            const int32x4_t hi = vmull_high_s16(xv[v], wv);
            c[m][v] = vaddq_s32(c[m][v], vpaddq_s32(lo, hi));
          }
        }
      }
    }
    for (int64_t m = 0; m < kMR; ++m)
      for (int64_t v = 0; v < 4; ++v) vst1q_s32(acc + m * ldacc + cb * kNR + 4 * v, c[m][v]);
  }
}

}  // namespace kiln::rt::gemm

#endif
