// conv, dw, deconv, fc and matmul in float: im2col + GEMM (gemm.cpp) for dense and grouped
// convolutions, a direct loop for depthwise, GEMM + col2im for transposed convolutions. NCHW.
#include <algorithm>
#include <cmath>

#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln::float_kernels {

namespace {

struct Geometry {
  int64_t C, H, W, K, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl;
};

Geometry geometry(const Layer& l, const Shape& in, const Shape& out, const Shape& k) {
  const auto& s = l.attrInts("strides");
  const auto& d = l.attrInts("dilations");
  const auto& p = l.attrInts("pads");
  return {in[1], in[2], in[3], out[1], out[2], out[3], k[2],
          k[3],  s[0],  s[1],  d[0],   d[1],   p[0],   p[1]};
}

// The output columns [lo, hi) whose input column ox * sw + off stays inside [0, W).
void validRange(int64_t OW, int64_t sw, int64_t off, int64_t W, int64_t& lo, int64_t& hi) {
  lo = 0;
  while (lo < OW && lo * sw + off < 0) ++lo;
  hi = lo;
  while (hi < OW && hi * sw + off < W) ++hi;
}

// Columns for one group and the output rows [oy0, oy1): rows (c, ky, kx), columns (oy, ox).
void im2col(const float* x, const Geometry& g, int64_t channels, int64_t oy0, int64_t oy1,
            float* col) {
  const int64_t cols = (oy1 - oy0) * g.OW;
  for (int64_t kx = 0; kx < g.kw; ++kx) {
    const int64_t off = kx * g.dw - g.pl;
    int64_t lo, hi;
    validRange(g.OW, g.sw, off, g.W, lo, hi);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        float* row = col + ((c * g.kh + ky) * g.kw + kx) * cols;
        const float* plane = x + c * g.H * g.W;
        for (int64_t oy = oy0; oy < oy1; ++oy) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          float* r = row + (oy - oy0) * g.OW;
          if (iy < 0 || iy >= g.H) {
            std::fill(r, r + g.OW, 0.f);
            continue;
          }
          const float* src = plane + iy * g.W + off;
          std::fill(r, r + lo, 0.f);
          if (g.sw == 1) {
            std::copy(src + lo, src + hi, r + lo);
          } else if (g.sw == 2) {
            for (int64_t ox = lo; ox < hi; ++ox) r[ox] = src[2 * ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) r[ox] = src[ox * g.sw];
          }
          std::fill(r + hi, r + g.OW, 0.f);
        }
      }
  }
}

// o[i] += s[i * S] * w for i in [0, n) (S = 0: the stride is sw).
template <int S>
void tap(float* o, const float* s, float w, int64_t n, int64_t sw) {
  const int64_t st = S ? S : sw;
  for (int64_t i = 0; i < n; ++i) o[i] += s[i * st] * w;
}

// Three taps in a row: o[i] = ((o[i] + s[i*S]*w0) + s[i*S+d]*w1) + s[i*S+2d]*w2.
template <int S>
void tap3(float* o, const float* s, const float* w, int64_t n, int64_t sw, int64_t d) {
  const int64_t st = S ? S : sw;
  const float w0 = w[0], w1 = w[1], w2 = w[2];
  const float *s0 = s, *s1 = s + d, *s2 = s + 2 * d;
  for (int64_t i = 0; i < n; ++i)
    o[i] = ((o[i] + s0[i * st] * w0) + s1[i * st] * w1) + s2[i * st] * w2;
}

template <int S>
void rowTaps(float* o, const float* src, const float* w, int64_t n, const Geometry& g) {
  if (g.kw == 3) return tap3<S>(o, src, w, n, g.sw, g.dw);
  for (int64_t kx = 0; kx < g.kw; ++kx) tap<S>(o, src + kx * g.dw, w[kx], n, g.sw);
}

// One depthwise output plane: the columns whose taps all fall inside the row are done a tap at a
// time over the whole run (no bounds checks, vectorisable); the border columns one by one. Each
// output still sums bias + taps in (ky, kx) order.
void depthwisePlane(const float* plane, const float* w, float bias, float* o, const Geometry& g,
                    int64_t lo, int64_t hi) {
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    float* orow = o + oy * g.OW;
    for (int64_t ox = lo; ox < hi; ++ox) orow[ox] = bias;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      if (iy < 0 || iy >= g.H || hi <= lo) continue;
      const float* src = plane + iy * g.W + lo * g.sw - g.pl;
      const float* wr = w + ky * g.kw;
      if (g.sw == 1)
        rowTaps<1>(orow + lo, src, wr, hi - lo, g);
      else if (g.sw == 2)
        rowTaps<2>(orow + lo, src, wr, hi - lo, g);
      else
        rowTaps<0>(orow + lo, src, wr, hi - lo, g);
    }
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      if (ox == lo && hi > lo) ox = hi;
      if (ox >= g.OW) break;
      float acc = bias;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
        if (iy < 0 || iy >= g.H) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
          if (ix >= 0 && ix < g.W) acc += plane[iy * g.W + ix] * w[ky * g.kw + kx];
        }
      }
      orow[ox] = acc;
    }
  }
}

void depthwise(const Layer& l, const FloatBuffer& x, FloatBuffer& out, const Geometry& g,
               bool clamp, float clo, float chi) {
  const Tensor& k = l.param("kernel");
  const Tensor& b = l.param("bias");
  const int64_t mult = g.K / g.C;
  // Interior columns: every kx lands inside, i.e. the first and the last tap do.
  int64_t lo, hi, lo2, hi2;
  validRange(g.OW, g.sw, -g.pl, g.W, lo, hi);
  validRange(g.OW, g.sw, (g.kw - 1) * g.dw - g.pl, g.W, lo2, hi2);
  lo = std::max(lo, lo2);
  hi = std::max(lo, std::min(hi, hi2));
  // Channel planes over the pool (each plane is computed the same way by any thread).
  const int64_t planes = x.shape[0] * g.K;
  const int64_t parts = g.OH * g.OW * g.kh * g.kw * planes >= (int64_t(1) << 18)
                            ? std::min<int64_t>(planes, 4 * poolThreads())
                            : 1;
  forParts(parts, [&](int64_t part) {
    for (int64_t p = part * planes / parts; p < (part + 1) * planes / parts; ++p) {
      const int64_t n = p / g.K, oc = p % g.K;
      const int64_t ic = oc / mult;
      float* o = out.data.data() + (n * g.K + oc) * g.OH * g.OW;
      depthwisePlane(x.data.data() + (n * g.C + ic) * g.H * g.W, k.data.data() + oc * g.kh * g.kw,
                     b.data[oc], o, g, lo, hi);
      if (clamp)  // the fused activation while the plane is still in cache
        for (int64_t i = 0; i < g.OH * g.OW; ++i) o[i] = std::min(std::max(o[i], clo), chi);
    }
  });
}

}  // namespace

bool conv(const Layer& l, const Inputs& in, FloatBuffer& out, bool fuseClamp) {
  const FloatBuffer& x = *in[0];
  const Tensor& k = l.param("kernel");
  const Tensor& b = l.param("bias");
  const Geometry g = geometry(l, x.shape, out.shape, k.shape);
  out.data.resize(numel(out.shape));
  const int64_t groups = l.attrInt("group", 1);
  float lo = -HUGE_VALF, hi = HUGE_VALF;
  const bool clamp = fuseClamp && clampRange(l.activation, lo, hi);
  if (groups == g.C && groups > 1) {
    depthwise(l, x, out, g, clamp, lo, hi);
    return clamp;
  }
  const int64_t cg = g.C / groups, kg = g.K / groups, rows = cg * g.kh * g.kw, cols = g.OH * g.OW;
  const bool direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 &&
                      g.OH == g.H && g.OW == g.W;
  // im2col a band of output rows at a time into a buffer kept across calls (bounded, so no fresh
  // pages or zeroing per call), each band one GEMM into its slice of the output.
  const int64_t bandFloats = int64_t(1) << 18;  // 1 MB of columns: stays in L2 for the packing
  const int64_t band =
      direct ? g.OH : std::clamp<int64_t>(bandFloats / std::max<int64_t>(1, rows * g.OW), 1, g.OH);
  thread_local std::vector<float> col;
  if (!direct && col.size() < size_t(rows * band * g.OW)) col.resize(rows * band * g.OW);
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* xg = x.data.data() + (n * g.C + gi * cg) * g.H * g.W;
      float* o = out.data.data() + (n * g.K + gi * kg) * cols;
      for (int64_t oy0 = 0; oy0 < g.OH; oy0 += band) {
        const int64_t oy1 = std::min(g.OH, oy0 + band), bc = (oy1 - oy0) * g.OW;
        if (!direct) im2col(xg, g, cg, oy0, oy1, col.data());
        gemm(kg, bc, rows, k.data.data() + gi * kg * rows, rows, 1, direct ? xg : col.data(), bc,
             o + oy0 * g.OW, cols, b.data.data() + gi * kg, lo, hi);
      }
    }
  return clamp;
}

void deconv(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const Tensor& k = l.param("kernel");  // [Cin, Cout/g, kh, kw]
  const Tensor& b = l.param("bias");
  const auto& s = l.attrInts("strides");
  const auto& d = l.attrInts("dilations");
  const auto& p = l.attrInts("pads");
  const int64_t groups = l.attrInt("group", 1);
  const int64_t C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t K = out.shape[1], OH = out.shape[2], OW = out.shape[3];
  const int64_t kh = k.shape[2], kw = k.shape[3], cg = C / groups, kg = K / groups;
  out.data.assign(numel(out.shape), 0.f);
  std::vector<float> col(kg * kh * kw * H * W);
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      // col = w^T * x: w is [cg, kg*kh*kw] row-major, read transposed through its strides.
      gemm(kg * kh * kw, H * W, cg, k.data.data() + gi * cg * kg * kh * kw, 1, kg * kh * kw,
           x.data.data() + (n * C + gi * cg) * H * W, H * W, col.data(), H * W, nullptr);
      for (int64_t oc = 0; oc < kg; ++oc) {
        float* o = out.data.data() + (n * K + gi * kg + oc) * OH * OW;
        for (int64_t ky = 0; ky < kh; ++ky)
          for (int64_t kx = 0; kx < kw; ++kx) {
            const float* row = col.data() + ((oc * kh + ky) * kw + kx) * H * W;
            for (int64_t iy = 0; iy < H; ++iy) {
              const int64_t oy = iy * s[0] - p[0] + ky * d[0];
              if (oy < 0 || oy >= OH) continue;
              for (int64_t ix = 0; ix < W; ++ix) {
                const int64_t ox = ix * s[1] - p[1] + kx * d[1];
                if (ox >= 0 && ox < OW) o[oy * OW + ox] += row[iy * W + ix];
              }
            }
          }
        for (int64_t t = 0; t < OH * OW; ++t) o[t] += b.data[gi * kg + oc];
      }
    }
}

void fc(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const Tensor& k = l.param("kernel");  // [K, N]
  const Tensor& b = l.param("bias");
  const int64_t K = k.shape[0], N = k.shape[1], M = numel(x.shape) / K;
  out.data.resize(M * N);
  gemm(M, N, K, x.data.data(), K, 1, k.data.data(), N, out.data.data(), N, nullptr);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) out.data[m * N + n] += b.data[n];
}

void matmul(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer &a = *in[0], &b = *in[1];
  const int64_t M = a.shape[a.shape.size() - 2], K = a.shape.back(), N = b.shape.back();
  out.data.assign(numel(out.shape), 0.f);
  const Shape batch(out.shape.begin(), out.shape.end() - 2);
  const Shape ab(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  const auto as = broadcastStrides(ab, batch), bs = broadcastStrides(bb, batch);
  const int64_t nb = numel(batch);
  for (int64_t i = 0; i < nb; ++i) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int64_t d = int64_t(batch.size()) - 1; d >= 0; --d) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      ia += idx * as[d];
      ib += idx * bs[d];
    }
    gemm(M, N, K, a.data.data() + ia * M * K, K, 1, b.data.data() + ib * K * N, N,
         out.data.data() + i * M * N, N, nullptr);
  }
}

}  // namespace kiln::float_kernels
