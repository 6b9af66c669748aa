// Integer conv, dw (groups == channels), deconv and fc: accumulation of (x - inZp) * w plus the
// bias, then the output stage per output channel.
//
// conv2d is im2col + a row-by-row multiply-accumulate that compilers vectorise; it accumulates in
// int32 when no partial sum can leave int32 (checked per output channel from the weights and the
// largest |x - inZp|) and in int64 otherwise, so its results are exactly those of
// conv2dReference, the plain loop kept beside it (tests compare the two).
#include <algorithm>
#include <cstdlib>

#include "kernels/kernels.h"

namespace kiln::rt {

namespace {

// The inner loops, compiled twice on x86-64 (AVX2 and the baseline, chosen at load time): integer
// arithmetic, so both give the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_INT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KILN_INT_CLONES
#endif

KILN_INT_CLONES
void axpy4(const int32_t* c, int64_t n, int32_t x0, int32_t x1, int32_t x2, int32_t x3, int32_t* a0,
           int32_t* a1, int32_t* a2, int32_t* a3) {
  for (int64_t q = 0; q < n; ++q) {
    const int32_t v = c[q];
    a0[q] += x0 * v;
    a1[q] += x1 * v;
    a2[q] += x2 * v;
    a3[q] += x3 * v;
  }
}

KILN_INT_CLONES
void axpy32(const int32_t* c, int64_t n, int32_t x, int32_t* a) {
  for (int64_t q = 0; q < n; ++q) a[q] += x * c[q];
}

KILN_INT_CLONES
void axpy64(const int32_t* c, int64_t n, int64_t x, int64_t* a) {
  for (int64_t q = 0; q < n; ++q) a[q] += x * int64_t(c[q]);
}

inline void axpy(const int32_t* c, int64_t n, int32_t x, int32_t* a) {
  axpy32(c, n, x, a);
}
inline void axpy(const int32_t* c, int64_t n, int64_t x, int64_t* a) {
  axpy64(c, n, x, a);
}

// The largest |x - zp| over n values (a bound for the accumulator check).
int64_t maxAbsDiff(const int32_t* x, int64_t n, int32_t zp) {
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  return n ? std::max(std::abs(int64_t(lo) - zp), std::abs(int64_t(hi) - zp)) : 0;
}

// Output columns ox whose input column ox * sw + off lies inside [0, w): [ox0, ox1).
void validColumns(const ConvGeometry& g, int64_t off, int64_t& ox0, int64_t& ox1) {
  ox0 = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
  ox1 = g.w - off <= 0 ? 0 : std::min(g.ow, (g.w - off + g.sw - 1) / g.sw);
  ox0 = std::min(ox0, ox1);
}

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

// Depthwise (one filter per channel): the window's taps as shifted row multiply-accumulates over
// the channel's (x - zp) plane; the same integer sums as the im2col path.
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

template <typename W>
void conv2dTyped(const ConvParams& p, const W* weights, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  if (g.groups == g.c && g.k == g.c) return depthwiseTyped(p, weights, in, out);
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

template <typename W>
void deconv2dTyped(const ConvParams& p, const W* weights, const int32_t* in, int32_t* out);

}  // namespace

void conv2d(const ConvParams& p, const int32_t* in, int32_t* out) {
  switch (p.weights.bytes) {
    case 1:
      return conv2dTyped(p, static_cast<const int8_t*>(p.weights.data), in, out);
    case 2:
      return conv2dTyped(p, static_cast<const int16_t*>(p.weights.data), in, out);
    default:
      return conv2dTyped(p, static_cast<const int32_t*>(p.weights.data), in, out);
  }
}

void deconv2d(const ConvParams& p, const int32_t* in, int32_t* out) {
  switch (p.weights.bytes) {
    case 1:
      return deconv2dTyped(p, static_cast<const int8_t*>(p.weights.data), in, out);
    case 2:
      return deconv2dTyped(p, static_cast<const int16_t*>(p.weights.data), in, out);
    default:
      return deconv2dTyped(p, static_cast<const int32_t*>(p.weights.data), in, out);
  }
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

namespace {

// Deconvolution as one multiply-accumulate pass per kernel tap: t[i] = sum_ic w[ic, oc, tap] *
// (x[ic, i] - zp) over the input positions i, then t is added to the output positions the tap
// reaches. The accumulator is int32 when no sum can leave it (bound as in conv2d), else int64.
template <typename W, typename Acc>
void deconvChannel(const ConvParams& p, const W* weights, const int32_t* xs, int64_t cg, int64_t kg,
                   int64_t j, Acc* acc, Acc* tap) {
  const ConvGeometry& g = p.g;
  const int64_t hw = g.h * g.w;
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      std::fill(tap, tap + hw, Acc(0));
      for (int64_t ic = 0; ic < cg; ++ic) {
        const Acc w = Acc(weights[((ic * kg + j) * g.kh + ky) * g.kw + kx]);
        if (w != 0) axpy(xs + ic * hw, hw, w, tap);
      }
      for (int64_t iy = 0; iy < g.h; ++iy) {
        const int64_t oy = iy * g.sh - g.pt + ky * g.dh;
        if (oy < 0 || oy >= g.oh) continue;
        for (int64_t ix = 0; ix < g.w; ++ix) {
          const int64_t ox = ix * g.sw - g.pl + kx * g.dw;
          if (ox >= 0 && ox < g.ow) acc[oy * g.ow + ox] += tap[iy * g.w + ix];
        }
      }
    }
}

template <typename W>
void deconv2dTyped(const ConvParams& p, const W* weights, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups, hw = g.h * g.w, ohw = g.oh * g.ow;
  std::vector<int32_t> xs(static_cast<size_t>(cg * hw)), acc32(static_cast<size_t>(ohw)),
      tap32(static_cast<size_t>(hw));
  std::vector<int64_t> acc64(static_cast<size_t>(ohw)), tap64(static_cast<size_t>(hw));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const int32_t* x = in + (n * g.c + grp * cg) * hw;
      int64_t maxX = 0;
      for (int64_t i = 0; i < cg * hw; ++i) {
        xs[size_t(i)] = x[i] - p.inZp;
        maxX = std::max<int64_t>(maxX, std::abs(int64_t(xs[size_t(i)])));
      }
      for (int64_t j = 0; j < kg; ++j) {
        const int64_t oc = grp * kg + j;
        const W* wg = weights + grp * cg * kg * g.kh * g.kw;
        int64_t sumAbsW = 0;
        for (int64_t ic = 0; ic < cg; ++ic)
          for (int64_t t = 0; t < g.kh * g.kw; ++t)
            sumAbsW += std::abs(int64_t(wg[(ic * kg + j) * g.kh * g.kw + t]));
        int32_t* o = out + (n * g.k + oc) * ohw;
        if (sumAbsW * maxX + std::abs(p.bias[oc]) < (int64_t(1) << 31)) {
          std::fill(acc32.begin(), acc32.end(), int32_t(p.bias[oc]));
          deconvChannel(p, weights + grp * cg * kg * g.kh * g.kw, xs.data(), cg, kg, j,
                        acc32.data(), tap32.data());
          applyStage(p.out, acc32.data(), ohw, oc, o);
        } else {
          std::fill(acc64.begin(), acc64.end(), p.bias[oc]);
          deconvChannel(p, weights + grp * cg * kg * g.kh * g.kw, xs.data(), cg, kg, j,
                        acc64.data(), tap64.data());
          applyStage(p.out, acc64.data(), ohw, oc, o);
        }
      }
    }
}

}  // namespace

void deconv2dReference(const ConvParams& p, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  std::vector<int64_t> acc(size_t(g.k * g.oh * g.ow));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oc = 0; oc < g.k; ++oc)
      for (int64_t i = 0; i < g.oh * g.ow; ++i) acc[size_t(oc * g.oh * g.ow + i)] = p.bias[oc];
    for (int64_t ic = 0; ic < g.c; ++ic) {
      const int64_t grp = ic / cg;
      const int32_t* plane = in + (n * g.c + ic) * g.h * g.w;
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
