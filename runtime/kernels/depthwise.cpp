// Depthwise convolution. A channel whose |x - zp| and weights fit int16 and whose sums cannot
// leave int32 (every 8-bit channel) runs the pair-row kernel of depthwise_pairs.h (AVX2 / NEON /
// portable). Otherwise: per channel, the window's taps as shifted row multiply-accumulates over
// the channel's (x - zp) plane; int32 accumulation when no sum can leave it, else int64. With a
// column stride s > 1 the plane is first split into s phase planes (columns i, i + s, ...), so
// every tap reads a contiguous run. Channels are independent and spread over the threads. The
// same integer sums as conv2dReference (tests compare the two).
#include "runtime/kernels/conv_loops.h"
#include "runtime/kernels/depthwise_pairs.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt::loops {

namespace {

// floor(a / b) for b > 0.
int64_t floorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// xs: sw phase planes of h rows by wp columns, phase ph holding input columns ph, ph + sw, ...
template <typename W, typename Acc>
void depthwiseChannel(const ConvParams& p, const W* w, const int32_t* xs, int64_t wp, Acc* acc) {
  const ConvGeometry& g = p.g;
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const Acc wv = Acc(w[ky * g.kw + kx]);
      if (wv == 0) continue;
      const int64_t off = kx * g.dw - g.pl;
      int64_t ox0, ox1;
      validColumns(g, off, ox0, ox1);
      if (ox0 >= ox1) continue;
      // Input column ox * sw + off = (ox + q) * sw + ph.
      const int64_t q = floorDiv(off, g.sw), ph = off - q * g.sw;
      const int32_t* phase = xs + ph * g.h * wp;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
        if (iy < 0 || iy >= g.h) continue;
        const int32_t* src = phase + iy * wp + q;
        Acc* dst = acc + oy * g.ow;
        axpy(src + ox0, ox1 - ox0, wv, dst + ox0);
      }
    }
}

template <typename W>
void depthwiseTyped(const ConvParams& p, const W* weights, const Act* in, Act* out) {
  const ConvGeometry& g = p.g;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow, taps = g.kh * g.kw;
  const int64_t wp = (g.w + g.sw - 1) / g.sw;
  const int64_t planes = g.n * g.c;
  const int64_t parts = std::min<int64_t>(planes, 4 * currentThreads());
  parallelFor(parts, [&](int64_t part) {
    // Scratch of this thread kept between calls (no allocation and zeroing per call; the pair
    // kernel writes every value it reads); xs and acc32 only for the channels the pair kernel
    // does not take (rare: xs zeroed as before).
    thread_local std::vector<int32_t> xs, acc32;
    thread_local std::vector<int64_t> acc64;
    thread_local dw::PairScratch scratch;
    for (int64_t nc = part * planes / parts; nc < (part + 1) * planes / parts; ++nc) {
      const int64_t c = nc % g.c;
      const Act* plane = in + nc * hw;
      const int64_t maxX = inputMaxAbsDiff(p, plane, hw);
      const W* w = weights + c * taps;
      int64_t sumAbsW = 0;
      for (int64_t t = 0; t < taps; ++t) sumAbsW += std::abs(int64_t(w[t]));
      Act* o = out + nc * ohw;
      const bool fits32 = sumAbsW * maxX + std::abs(p.bias[c]) < (int64_t(1) << 31);
      if (fits32 && maxX <= INT16_MAX && dw::weightsFitInt16(w, taps)) {
        dw::depthwisePairsChannel(p, plane, w, c, scratch, o);
        continue;
      }
      xs.assign(static_cast<size_t>(g.sw * g.h * wp), 0);
      acc32.resize(static_cast<size_t>(ohw));
      // Column ix of row iy goes to phase plane ix % sw, position ix / sw (a loop per phase: no
      // division per element; stride 1 is a plain copy).
      for (int64_t ph = 0; ph < g.sw; ++ph)
        for (int64_t iy = 0; iy < g.h; ++iy) {
          int32_t* d = xs.data() + (ph * g.h + iy) * wp;
          const Act* src = plane + iy * g.w;
          if (g.sw == 1) {
            for (int64_t ix = 0; ix < g.w; ++ix) d[ix] = src[ix] - p.inZp;
          } else {
            for (int64_t ix = ph, k = 0; ix < g.w; ix += g.sw, ++k) d[k] = src[ix] - p.inZp;
          }
        }
      if (fits32) {
        std::fill(acc32.begin(), acc32.end(), int32_t(p.bias[c]));
        depthwiseChannel(p, w, xs.data(), wp, acc32.data());
        applyStage(p.out, acc32.data(), ohw, c, o);
      } else {
        acc64.assign(static_cast<size_t>(ohw), p.bias[c]);
        depthwiseChannel(p, w, xs.data(), wp, acc64.data());
        applyStage(p.out, acc64.data(), ohw, c, o);
      }
    }
  });
}

}  // namespace

void depthwise2d(const ConvParams& p, const Act* in, Act* out) {
  withWeights(p.weights, [&](const auto* w) { depthwiseTyped(p, w, in, out); });
}

}  // namespace kiln::rt::loops
