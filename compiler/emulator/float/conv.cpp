// conv, dw and deconv in float: im2col + Eigen GEMM for dense and grouped convolutions, a direct
// loop for depthwise, GEMM + col2im for transposed convolutions. Tensors are NCHW.
#include <Eigen/Core>

#include "emulator/float/kernels.h"

namespace kiln::floatk {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapC = Eigen::Map<const RowMat>;
using Map = Eigen::Map<RowMat>;

struct Geometry {
  int64_t C, H, W, K, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl;
};

Geometry geometry(const Layer& l, const Shape& in, const Shape& out, const Shape& k) {
  const auto& s = l.attrInts("strides");
  const auto& d = l.attrInts("dilations");
  const auto& p = l.attrInts("pads");
  return {in[1], in[2], in[3], out[1], out[2], out[3], k[2], k[3], s[0], s[1], d[0], d[1], p[0], p[1]};
}

// Columns for one group: rows (c, ky, kx), columns (oy, ox).
void im2col(const float* x, const Geometry& g, int64_t channels, float* col) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        float* row = col + ((c * g.kh + ky) * g.kw + kx) * g.OH * g.OW;
        const float* plane = x + c * g.H * g.W;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          float* r = row + oy * g.OW;
          if (iy < 0 || iy >= g.H) {
            std::fill(r, r + g.OW, 0.f);
            continue;
          }
          const float* src = plane + iy * g.W;
          for (int64_t ox = 0; ox < g.OW; ++ox) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            r[ox] = (ix >= 0 && ix < g.W) ? src[ix] : 0.f;
          }
        }
      }
}

void depthwise(const Layer& l, const FloatBuffer& x, FloatBuffer& out, const Geometry& g) {
  const Tensor& k = l.param("kernel");
  const Tensor& b = l.param("bias");
  const int64_t mult = g.K / g.C;
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t oc = 0; oc < g.K; ++oc) {
      const int64_t ic = oc / mult;
      const float* plane = x.data.data() + (n * g.C + ic) * g.H * g.W;
      const float* w = k.data.data() + oc * g.kh * g.kw;
      float* o = out.data.data() + (n * g.K + oc) * g.OH * g.OW;
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          float acc = b.data[oc];
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
            if (iy < 0 || iy >= g.H) continue;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
              if (ix >= 0 && ix < g.W) acc += plane[iy * g.W + ix] * w[ky * g.kw + kx];
            }
          }
          o[oy * g.OW + ox] = acc;
        }
    }
}

}  // namespace

void conv(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const Tensor& k = l.param("kernel");
  const Tensor& b = l.param("bias");
  const Geometry g = geometry(l, x.shape, out.shape, k.shape);
  out.data.assign(numel(out.shape), 0.f);
  const int64_t groups = l.attrInt("group", 1);
  if (groups == g.C && groups > 1) return depthwise(l, x, out, g);
  const int64_t cg = g.C / groups, kg = g.K / groups, rows = cg * g.kh * g.kw, cols = g.OH * g.OW;
  const bool direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 &&
                      g.OH == g.H && g.OW == g.W;
  std::vector<float> col(direct ? 0 : rows * cols);
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* xg = x.data.data() + (n * g.C + gi * cg) * g.H * g.W;
      if (!direct) im2col(xg, g, cg, col.data());
      MapC colM(direct ? xg : col.data(), rows, cols);
      MapC w(k.data.data() + gi * kg * rows, kg, rows);
      Map o(out.data.data() + (n * g.K + gi * kg) * cols, kg, cols);
      o.noalias() = w * colM;
      for (int64_t oc = 0; oc < kg; ++oc) o.row(oc).array() += b.data[gi * kg + oc];
    }
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
  RowMat col(kg * kh * kw, H * W);
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t gi = 0; gi < groups; ++gi) {
      MapC w(k.data.data() + gi * cg * kg * kh * kw, cg, kg * kh * kw);
      MapC xg(x.data.data() + (n * C + gi * cg) * H * W, cg, H * W);
      col.noalias() = w.transpose() * xg;
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
  Map o(out.data.data(), M, N);
  o.noalias() = MapC(x.data.data(), M, K) * MapC(k.data.data(), K, N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) o(m, n) += b.data[n];
}

void matmul(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer &a = *in[0], &b = *in[1];
  const int64_t M = a.shape[a.shape.size() - 2], K = a.shape.back(), N = b.shape.back();
  out.data.assign(numel(out.shape), 0.f);
  const Shape batch(out.shape.begin(), out.shape.end() - 2);
  const Shape ab(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  const auto as = broadcastStrides(ab, batch.size(), batch), bs = broadcastStrides(bb, batch.size(), batch);
  const int64_t nb = numel(batch);
  for (int64_t i = 0; i < nb; ++i) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int64_t d = int64_t(batch.size()) - 1; d >= 0; --d) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      ia += idx * as[d];
      ib += idx * bs[d];
    }
    Map(out.data.data() + i * M * N, M, N).noalias() =
        MapC(a.data.data() + ia * M * K, M, K) * MapC(b.data.data() + ib * K * N, K, N);
  }
}

}  // namespace kiln::floatk
