// The dot-product micro-kernel of the packed GEMM (gemm.h, panelDot) for aarch64 CPUs with
// FEAT_DotProd (Cortex-A76 / Raspberry Pi 5): 4 output channels x 16 columns in sixteen uint32x4
// accumulators, one udot (by weight lane) per channel and 4-column group and quad of rows, and
// one more per group for the columns' sums of x. This file alone is compiled for
// armv8.2-a+dotprod (runtime/CMakeLists.txt); it runs only when the kernel reports the
// instructions (supportedKernelPaths: HWCAP_ASIMDDP) or KILN_KERNEL_PATH=neon-dot asks for it
// on such a CPU.
#include "runtime/kernels/gemm.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>

namespace kiln::rt::gemm {

static_assert(kMR == 4 && kNR == 16, "the dot-product micro-kernel is written for 4 x 16");

void panelDot(const uint8_t* w, const uint8_t* x, int64_t quads, int64_t blocks,
              const uint32_t* bias, int32_t* acc, int64_t ldacc) {
  const uint8x16_t ones = vdupq_n_u8(1);
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const uint8_t* xb = x + cb * quads * 64;
    uint32x4_t c0[4], c1[4], c2[4], c3[4], s[4];
    for (int v = 0; v < 4; ++v) {
      c0[v] = c1[v] = c2[v] = c3[v] = s[v] = vdupq_n_u32(0);
    }
    for (int64_t q = 0; q < quads; ++q, xb += 64) {
      const uint8x16_t wv = vld1q_u8(w + q * 16);
      for (int v = 0; v < 4; ++v) {
        const uint8x16_t xv = vld1q_u8(xb + v * 16);
        c0[v] = vdotq_laneq_u32(c0[v], xv, wv, 0);
        c1[v] = vdotq_laneq_u32(c1[v], xv, wv, 1);
        c2[v] = vdotq_laneq_u32(c2[v], xv, wv, 2);
        c3[v] = vdotq_laneq_u32(c3[v], xv, wv, 3);
        s[v] = vdotq_u32(s[v], xv, ones);
      }
    }
    // acc = bias + U - 128 S, in wrapping uint32 lanes.
    int32_t* a = acc + cb * kNR;
    for (int v = 0; v < 4; ++v) {
      const uint32x4_t s128 = vshlq_n_u32(s[v], 7);
      const uint32x4_t r0 = vsubq_u32(vaddq_u32(c0[v], vdupq_n_u32(bias[0])), s128);
      const uint32x4_t r1 = vsubq_u32(vaddq_u32(c1[v], vdupq_n_u32(bias[1])), s128);
      const uint32x4_t r2 = vsubq_u32(vaddq_u32(c2[v], vdupq_n_u32(bias[2])), s128);
      const uint32x4_t r3 = vsubq_u32(vaddq_u32(c3[v], vdupq_n_u32(bias[3])), s128);
      vst1q_s32(a + 4 * v, vreinterpretq_s32_u32(r0));
      vst1q_s32(a + ldacc + 4 * v, vreinterpretq_s32_u32(r1));
      vst1q_s32(a + 2 * ldacc + 4 * v, vreinterpretq_s32_u32(r2));
      vst1q_s32(a + 3 * ldacc + 4 * v, vreinterpretq_s32_u32(r3));
    }
  }
}

}  // namespace kiln::rt::gemm

#else

namespace kiln::rt::gemm {

void panelDot(const uint8_t* w, const uint8_t* x, int64_t quads, int64_t blocks,
              const uint32_t* bias, int32_t* acc, int64_t ldacc) {
  panelDotPortable(w, x, quads, blocks, bias, acc, ldacc);
}

}  // namespace kiln::rt::gemm

#endif
