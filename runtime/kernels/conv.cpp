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

// (x - zp) of one group as rows (ic, ky, kx) by columns (oy, ox); padding reads 0. Returns the
// largest |value|.
int64_t im2col(const int32_t* planes, const ConvGeometry& g, int64_t channels, int32_t zp,
               std::vector<int32_t>& col) {
  const int64_t cols = g.oh * g.ow;
  col.assign(size_t(channels * g.kh * g.kw * cols), 0);
  int64_t maxAbs = 0;
  for (int64_t c = 0; c < channels; ++c) {
    const int32_t* plane = planes + c * g.h * g.w;
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        int32_t* row = col.data() + ((c * g.kh + ky) * g.kw + kx) * cols;
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          const int32_t* src = plane + iy * g.w;
          int32_t* dst = row + oy * g.ow;
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const int32_t v = src[ix] - zp;
            dst[ox] = v;
            maxAbs = std::max<int64_t>(maxAbs, std::abs(int64_t(v)));
          }
        }
      }
  }
  return maxAbs;
}

template <typename Acc, typename W>
void accumulateRows(const W* w, int64_t rows, const int32_t* col, int64_t cols, Acc* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const Acc wr = Acc(w[r]);
    if (wr == 0) continue;
    const int32_t* c = col + r * cols;
    for (int64_t q = 0; q < cols; ++q) acc[q] += wr * Acc(c[q]);
  }
}

template <typename W>
void conv2dTyped(const ConvParams& p, const W* weights, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t rows = cg * g.kh * g.kw, cols = g.oh * g.ow;
  std::vector<int32_t> col;
  std::vector<int32_t> acc32(static_cast<size_t>(cols));
  std::vector<int64_t> acc64(static_cast<size_t>(cols));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const int64_t maxX = im2col(in + (n * g.c + grp * cg) * g.h * g.w, g, cg, p.inZp, col);
      for (int64_t j = 0; j < kg; ++j) {
        const int64_t oc = grp * kg + j;
        const W* w = weights + oc * rows;
        int64_t sumAbsW = 0;
        for (int64_t r = 0; r < rows; ++r) sumAbsW += std::abs(int64_t(w[r]));
        int32_t* o = out + (n * g.k + oc) * cols;
        const int64_t bound = sumAbsW * maxX + std::abs(p.bias[oc]);
        if (bound < (int64_t(1) << 31)) {
          std::fill(acc32.begin(), acc32.end(), int32_t(p.bias[oc]));
          accumulateRows(w, rows, col.data(), cols, acc32.data());
          for (int64_t q = 0; q < cols; ++q) o[q] = p.out.apply(acc32[q], oc);
        } else {
          std::fill(acc64.begin(), acc64.end(), p.bias[oc]);
          accumulateRows(w, rows, col.data(), cols, acc64.data());
          for (int64_t q = 0; q < cols; ++q) o[q] = p.out.apply(acc64[q], oc);
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

template <typename W>
void deconv2dTyped(const ConvParams& p, const W* weights, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  std::vector<int64_t> acc(g.k * g.oh * g.ow);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oc = 0; oc < g.k; ++oc)
      for (int64_t i = 0; i < g.oh * g.ow; ++i) acc[oc * g.oh * g.ow + i] = p.bias[oc];
    for (int64_t ic = 0; ic < g.c; ++ic) {
      const int64_t grp = ic / cg;
      const int32_t* plane = in + (n * g.c + ic) * g.h * g.w;
      for (int64_t j = 0; j < kg; ++j) {
        const int64_t oc = grp * kg + j;
        const W* wk = weights + (ic * kg + j) * g.kh * g.kw;
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
    for (int64_t oc = 0; oc < g.k; ++oc)
      for (int64_t i = 0; i < g.oh * g.ow; ++i)
        out[(n * g.k + oc) * g.oh * g.ow + i] = p.out.apply(acc[oc * g.oh * g.ow + i], oc);
  }
}

}  // namespace

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
