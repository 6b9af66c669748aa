// Integer deconvolution (transposed convolution). A group whose |x - zp| and weights fit int16 and
// whose sums cannot leave int32 (every 8-bit layer) runs the packed GEMM (deconv_packed.h).
// Otherwise: one multiply-accumulate pass per kernel tap, scattered to the output positions the
// tap reaches. Both checked bit for bit against deconv2dReference, the plain scatter loop kept
// beside them.
#include "runtime/kernels/conv_loops.h"
#include "runtime/kernels/deconv_packed.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

using loops::axpy;

namespace {

constexpr int64_t kMinTaskMacs = 32768;

// ceil(a / b) for b > 0 and any a.
inline int64_t ceilDiv(int64_t a, int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// Deconvolution as one multiply-accumulate pass per kernel tap: t[i] = sum_ic w[ic, oc, tap] *
// (x[ic, i] - zp) over the input positions i, then t is added to the output positions the tap
// reaches. The accumulator is int32 when no sum can leave it (bound as in conv2d), else int64.
// x: the group's input planes as stored (x - zp is formed in the multiply-accumulate). acc holds
// output rows [o0, o1) only: each tap pass covers the input rows that reach them, so a band of
// rows needs scratch of its size, not of the plane (every (tap, input row) pair lands in exactly
// one band: the same sums).
template <typename W, typename Acc>
void deconvChannel(const ConvParams& p, const W* weights, const Act* x, int64_t cg, int64_t kg,
                   int64_t j, int64_t o0, int64_t o1, Acc* acc, Acc* tap) {
  const ConvGeometry& g = p.g;
  const int64_t hw = g.h * g.w;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    // Output row oy = iy * sh - base.
    const int64_t base = g.pt - ky * g.dh;
    const int64_t i0 = std::max<int64_t>(0, ceilDiv(o0 + base, g.sh));
    const int64_t i1 = std::min<int64_t>(g.h, ceilDiv(o1 + base, g.sh));
    if (i0 >= i1) continue;
    const int64_t len = (i1 - i0) * g.w;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      std::fill(tap, tap + len, Acc(0));
      for (int64_t ic = 0; ic < cg; ++ic) {
        const Acc w = Acc(weights[((ic * kg + j) * g.kh + ky) * g.kw + kx]);
        if (w != 0) axpy(x + ic * hw + i0 * g.w, p.inZp, len, w, tap);
      }
      // The input columns whose output column ix * sw - pl + kx * dw lies in [0, ow).
      const int64_t off = kx * g.dw - g.pl;
      const int64_t ix0 = std::min(g.w, std::max<int64_t>(0, ceilDiv(-off, g.sw)));
      const int64_t ix1 = std::max(ix0, std::min(g.w, ceilDiv(g.ow - off, g.sw)));
      for (int64_t iy = i0; iy < i1; ++iy) {
        Acc* dst = acc + (iy * g.sh - base - o0) * g.ow;
        const Acc* src = tap + (iy - i0) * g.w;
        for (int64_t ix = ix0; ix < ix1; ++ix) dst[ix * g.sw + off] += src[ix];
      }
    }
  }
}

template <typename W>
void deconv2dTyped(const ConvParams& p, const W* weights, const Act* in, Act* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups, hw = g.h * g.w, ohw = g.oh * g.ow;
  // Bands of output rows of about 16 k accumulators, and the input rows one tap pass of a band
  // reads (at most ceil(band / sh)).
  const int64_t band = std::min(g.oh, std::max<int64_t>(1, 16384 / g.ow));
  const int64_t tapRows = std::min(g.h, (band + g.sh - 1) / g.sh);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const Act* x = in + (n * g.c + grp * cg) * hw;
      const int64_t maxX = loops::inputMaxAbsDiff(p, x, cg * hw);
      if (deconvpk::deconvGroupPacked(p, n, grp, x, maxX, out)) continue;
      // Output channels, and bands of rows within one, are independent: (channel, band) tasks
      // in ranges on the session's threads, each with its own accumulators (the int64 ones only
      // when a channel needs them). A single output channel (a score map) still splits.
      const W* wg = weights + grp * cg * kg * g.kh * g.kw;
      const int64_t bands = (g.oh + band - 1) / band;
      // A task's multiply-accumulates: about band * ow * cg * kh * kw / (sh * sw); ranges of at
      // least kMinTaskMacs so that a small deconvolution does not pay for the threads.
      const int64_t taskMacs = std::max<int64_t>(1, band * g.ow * cg * g.kh * g.kw / (g.sh * g.sw));
      parallelRanges(
          kg * bands, std::max<int64_t>(1, kMinTaskMacs / taskMacs), [&](int64_t t0, int64_t t1) {
            std::vector<int32_t> acc32, tap32;
            std::vector<int64_t> acc64, tap64;
            for (int64_t t = t0; t < t1; ++t) {
              const int64_t j = t / bands, o0 = t % bands * band;
              const int64_t oc = grp * kg + j;
              int64_t sumAbsW = 0;
              for (int64_t ic = 0; ic < cg; ++ic)
                for (int64_t q = 0; q < g.kh * g.kw; ++q)
                  sumAbsW += std::abs(int64_t(wg[(ic * kg + j) * g.kh * g.kw + q]));
              const bool fits32 = sumAbsW * maxX + std::abs(p.bias[oc]) < (int64_t(1) << 31);
              const int64_t o1 = std::min(g.oh, o0 + band), n1 = (o1 - o0) * g.ow;
              Act* o = out + (n * g.k + oc) * ohw + o0 * g.ow;
              if (fits32) {
                acc32.assign(static_cast<size_t>(n1), int32_t(p.bias[oc]));
                tap32.resize(static_cast<size_t>(tapRows * g.w));
                deconvChannel(p, wg, x, cg, kg, j, o0, o1, acc32.data(), tap32.data());
                applyStage(p.out, acc32.data(), n1, oc, o);
              } else {
                acc64.assign(static_cast<size_t>(n1), p.bias[oc]);
                tap64.resize(static_cast<size_t>(tapRows * g.w));
                deconvChannel(p, wg, x, cg, kg, j, o0, o1, acc64.data(), tap64.data());
                applyStage(p.out, acc64.data(), n1, oc, o);
              }
            }
          });
    }
}

}  // namespace

void deconv2d(const ConvParams& p, const Act* in, Act* out) {
  loops::withWeights(p.weights, [&](const auto* w) { deconv2dTyped(p, w, in, out); });
}

void deconv2dReference(const ConvParams& p, const Act* in, Act* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  std::vector<int64_t> acc(size_t(g.k * g.oh * g.ow));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oc = 0; oc < g.k; ++oc)
      for (int64_t i = 0; i < g.oh * g.ow; ++i) acc[size_t(oc * g.oh * g.ow + i)] = p.bias[oc];
    for (int64_t ic = 0; ic < g.c; ++ic) {
      const int64_t grp = ic / cg;
      const Act* plane = in + (n * g.c + ic) * g.h * g.w;
      for (int64_t j = 0; j < kg; ++j) {
        const int64_t oc = grp * kg + j;
        const WeightPtr wk = p.weights + (ic * kg + j) * g.kh * g.kw;
        int64_t* a = acc.data() + oc * g.oh * g.ow;
        for (int64_t iy = 0; iy < g.h; ++iy)
          for (int64_t ix = 0; ix < g.w; ++ix) {
            const int64_t x = plane[iy * g.w + ix] - p.inZp;
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t oy = iy * g.sh - g.pt + ky * g.dh;
              if (oy < 0 || oy >= g.oh) continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ox = ix * g.sw - g.pl + kx * g.dw;
                if (ox >= 0 && ox < g.ow) a[oy * g.ow + ox] += x * wk[ky * g.kw + kx];
              }
            }
          }
      }
    }
    for (int64_t i = 0; i < g.k * g.oh * g.ow; ++i)
      out[n * g.k * g.oh * g.ow + i] = p.out.apply(acc[size_t(i)], i / (g.oh * g.ow));
  }
}

}  // namespace kiln::rt
