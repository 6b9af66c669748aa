// Integer conv (and dw through depthwise.cpp) and fc: accumulation of (x - inZp) * w plus the
// bias, then the output stage per output channel.
//
// conv2d is im2col by column tile + multiply-accumulate passes of four output channels; it
// accumulates in int32 when no partial sum can leave int32 (checked per output channel from the
// weights and the largest |x - inZp|) and in int64 otherwise, so its results are exactly those
// of conv2dReference, the plain loop kept beside it (tests compare the two).
#include "runtime/kernels/conv_loops.h"

namespace kiln::rt {

using loops::axpy;
using loops::axpy4;
using loops::maxAbsDiff;
using loops::validColumns;

namespace {

// Columns [t0, t0 + tl) of the im2col matrix of one group: (x - zp) as rows (ic, ky, kx) by
// output positions (oy, ox), row stride tl; padding reads 0.
void im2colTile(const int32_t* planes, const ConvGeometry& g, int64_t channels, int32_t zp,
                int64_t t0, int64_t tl, std::vector<int32_t>& col) {
  col.assign(size_t(channels * g.kh * g.kw * tl), 0);
  for (int64_t c = 0; c < channels; ++c) {
    const int32_t* plane = planes + c * g.h * g.w;
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        int32_t* row = col.data() + ((c * g.kh + ky) * g.kw + kx) * tl;
        const int64_t off = kx * g.dw - g.pl;
        int64_t ox0, ox1;
        validColumns(g, off, ox0, ox1);
        // Walk the tile one output row segment at a time.
        for (int64_t j = t0; j < t0 + tl;) {
          const int64_t oy = j / g.ow, segStart = j % g.ow;
          const int64_t segEnd = std::min(g.ow, segStart + (t0 + tl - j));
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy >= 0 && iy < g.h) {
            const int32_t* src = plane + iy * g.w + off;
            int32_t* dst = row + (j - segStart) - t0;  // dst[ox] is column (oy, ox)
            const int64_t lo = std::max(ox0, segStart), hi = std::min(ox1, segEnd);
            if (g.sw == 1) {
              for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox] - zp;
            } else {
              for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * g.sw] - zp;
            }
          }
          j += segEnd - segStart;
        }
      }
  }
}

template <typename Acc, typename W>
void accumulateRows(const W* w, int64_t rows, const int32_t* col, int64_t stride, int64_t len,
                    Acc* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const Acc wr = Acc(w[r]);
    if (wr == 0) continue;
    axpy(col + r * stride, len, wr, acc);
  }
}

// Four output channels at once over a tile of columns: each column value is loaded once for
// four multiply-accumulates (int32: every partial sum was proven to fit).
template <typename W>
void accumulate4(const W* w0, const W* w1, const W* w2, const W* w3, int64_t rows,
                 const int32_t* col, int64_t cols, int64_t t0, int64_t tl, int32_t* a0, int32_t* a1,
                 int32_t* a2, int32_t* a3) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t x0 = w0[r], x1 = w1[r], x2 = w2[r], x3 = w3[r];
    if ((x0 | x1 | x2 | x3) == 0) continue;
    axpy4(col + r * cols + t0, tl, x0, x1, x2, x3, a0, a1, a2, a3);
  }
}

template <typename W>
void conv2dTyped(const ConvParams& p, const W* weights, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  if (g.groups == g.c && g.k == g.c) return loops::depthwise2d(p, in, out);
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t rows = cg * g.kh * g.kw, cols = g.oh * g.ow;
  // Column tiles whose im2col rows stay in cache (about 256 KB) while every output channel
  // passes over them.
  const int64_t tile = std::min<int64_t>(cols, std::max<int64_t>(64, (int64_t(1) << 16) / rows));
  std::vector<int32_t> col;
  std::vector<int32_t> acc32(static_cast<size_t>(4 * tile));
  std::vector<int64_t> acc64(static_cast<size_t>(tile));
  std::vector<char> fits32(static_cast<size_t>(kg));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const int32_t* planes = in + (n * g.c + grp * cg) * g.h * g.w;
      const int64_t maxX = maxAbsDiff(planes, cg * g.h * g.w, p.inZp);
      for (int64_t j = 0; j < kg; ++j) {
        const int64_t oc = grp * kg + j;
        const W* w = weights + oc * rows;
        int64_t sumAbsW = 0;
        for (int64_t r = 0; r < rows; ++r) sumAbsW += std::abs(int64_t(w[r]));
        fits32[size_t(j)] = sumAbsW * maxX + std::abs(p.bias[oc]) < (int64_t(1) << 31);
      }
      for (int64_t t0 = 0; t0 < cols; t0 += tile) {
        const int64_t tl = std::min(tile, cols - t0);
        im2colTile(planes, g, cg, p.inZp, t0, tl, col);
        int64_t j = 0;
        while (j < kg) {
          const int64_t oc = grp * kg + j;
          if (j + 4 <= kg && fits32[size_t(j)] && fits32[size_t(j + 1)] && fits32[size_t(j + 2)] &&
              fits32[size_t(j + 3)]) {
            int32_t* a = acc32.data();
            for (int64_t b = 0; b < 4; ++b)
              std::fill(a + b * tile, a + b * tile + tl, int32_t(p.bias[oc + b]));
            accumulate4(weights + oc * rows, weights + (oc + 1) * rows, weights + (oc + 2) * rows,
                        weights + (oc + 3) * rows, rows, col.data(), tl, 0, tl, a, a + tile,
                        a + 2 * tile, a + 3 * tile);
            for (int64_t b = 0; b < 4; ++b) {
              int32_t* o = out + (n * g.k + oc + b) * cols + t0;
              applyStage(p.out, a + b * tile, tl, oc + b, o);
            }
            j += 4;
            continue;
          }
          const W* w = weights + oc * rows;
          int32_t* o = out + (n * g.k + oc) * cols + t0;
          if (fits32[size_t(j)]) {
            std::fill(acc32.begin(), acc32.begin() + tl, int32_t(p.bias[oc]));
            accumulateRows(w, rows, col.data(), tl, tl, acc32.data());
            applyStage(p.out, acc32.data(), tl, oc, o);
          } else {
            std::fill(acc64.begin(), acc64.begin() + tl, p.bias[oc]);
            accumulateRows(w, rows, col.data(), tl, tl, acc64.data());
            applyStage(p.out, acc64.data(), tl, oc, o);
          }
          ++j;
        }
      }
    }
}

}  // namespace

void conv2d(const ConvParams& p, const int32_t* in, int32_t* out) {
  loops::withWeights(p.weights, [&](const auto* w) { conv2dTyped(p, w, in, out); });
}

void conv2dReference(const ConvParams& p, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oc = 0; oc < g.k; ++oc) {
      const int64_t grp = oc / kg;
      const WeightPtr wk = p.weights + oc * cg * g.kh * g.kw;
      int32_t* o = out + (n * g.k + oc) * g.oh * g.ow;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t acc = p.bias[oc];
          for (int64_t ic = 0; ic < cg; ++ic) {
            const int32_t* plane = in + (n * g.c + grp * cg + ic) * g.h * g.w;
            const WeightPtr wc = wk + ic * g.kh * g.kw;
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                acc += int64_t(plane[iy * g.w + ix] - p.inZp) * wc[ky * g.kw + kx];
              }
            }
          }
          o[oy * g.ow + ox] = p.out.apply(acc, oc);
        }
    }
}

void fullyConnected(const FcParams& p, const int32_t* in, int32_t* out) {
  for (int64_t m = 0; m < p.m; ++m)
    for (int64_t n = 0; n < p.n; ++n) {
      int64_t acc = p.bias[n];
      for (int64_t k = 0; k < p.k; ++k)
        acc += int64_t(in[m * p.k + k] - p.inZp) * p.weights[k * p.n + n];
      out[m * p.n + n] = p.out.apply(acc, n);
    }
}

}  // namespace kiln::rt
