// Depthwise convolution: per channel, the window's taps as shifted row multiply-accumulates over
// the channel's (x - zp) plane; int32 accumulation when no sum can leave it, else int64. The same
// integer sums as conv2dReference (tests compare the two).
#include "runtime/kernels/conv_loops.h"

namespace kiln::rt::loops {

namespace {

template <typename W, typename Acc>
void depthwiseChannel(const ConvParams& p, const W* w, const int32_t* xs, Acc* acc) {
  const ConvGeometry& g = p.g;
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const Acc wv = Acc(w[ky * g.kw + kx]);
      if (wv == 0) continue;
      const int64_t off = kx * g.dw - g.pl;
      int64_t ox0, ox1;
      validColumns(g, off, ox0, ox1);
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
        if (iy < 0 || iy >= g.h) continue;
        const int32_t* src = xs + iy * g.w + off;
        Acc* dst = acc + oy * g.ow;
        if (g.sw == 1) {
          axpy(src + ox0, ox1 - ox0, wv, dst + ox0);
        } else {
          for (int64_t ox = ox0; ox < ox1; ++ox) dst[ox] += wv * Acc(src[ox * g.sw]);
        }
      }
    }
}

template <typename W>
void depthwiseTyped(const ConvParams& p, const W* weights, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow, taps = g.kh * g.kw;
  std::vector<int32_t> xs(static_cast<size_t>(hw)), acc32(static_cast<size_t>(ohw));
  std::vector<int64_t> acc64(static_cast<size_t>(ohw));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c) {
      const int32_t* plane = in + (n * g.c + c) * hw;
      int64_t maxX = 0;
      for (int64_t i = 0; i < hw; ++i) {
        xs[size_t(i)] = plane[i] - p.inZp;
        maxX = std::max<int64_t>(maxX, std::abs(int64_t(xs[size_t(i)])));
      }
      const W* w = weights + c * taps;
      int64_t sumAbsW = 0;
      for (int64_t t = 0; t < taps; ++t) sumAbsW += std::abs(int64_t(w[t]));
      int32_t* o = out + (n * g.k + c) * ohw;
      if (sumAbsW * maxX + std::abs(p.bias[c]) < (int64_t(1) << 31)) {
        std::fill(acc32.begin(), acc32.end(), int32_t(p.bias[c]));
        depthwiseChannel(p, w, xs.data(), acc32.data());
        applyStage(p.out, acc32.data(), ohw, c, o);
      } else {
        std::fill(acc64.begin(), acc64.end(), p.bias[c]);
        depthwiseChannel(p, w, xs.data(), acc64.data());
        applyStage(p.out, acc64.data(), ohw, c, o);
      }
    }
}

}  // namespace

void depthwise2d(const ConvParams& p, const int32_t* in, int32_t* out) {
  withWeights(p.weights, [&](const auto* w) { depthwiseTyped(p, w, in, out); });
}

}  // namespace kiln::rt::loops
