// Integer conv, dw (groups == channels), deconv and fc: int64 accumulation of
// (x - inZp) * w plus the bias, then the output stage per output channel.
#include "kernels/kernels.h"

namespace kiln::rt {

void conv2d(const ConvParams& p, const int32_t* in, int32_t* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oc = 0; oc < g.k; ++oc) {
      const int64_t grp = oc / kg;
      const int32_t* wk = p.weights + oc * cg * g.kh * g.kw;
      int32_t* o = out + (n * g.k + oc) * g.oh * g.ow;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t acc = p.bias[oc];
          for (int64_t ic = 0; ic < cg; ++ic) {
            const int32_t* plane = in + (n * g.c + grp * cg + ic) * g.h * g.w;
            const int32_t* wc = wk + ic * g.kh * g.kw;
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

void deconv2d(const ConvParams& p, const int32_t* in, int32_t* out) {
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
        const int32_t* wk = p.weights + (ic * kg + j) * g.kh * g.kw;
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

void fullyConnected(const FcParams& p, const int32_t* in, int32_t* out) {
  for (int64_t m = 0; m < p.m; ++m)
    for (int64_t n = 0; n < p.n; ++n) {
      int64_t acc = p.bias[n];
      for (int64_t k = 0; k < p.k; ++k) acc += int64_t(in[m * p.k + k] - p.inZp) * p.weights[k * p.n + n];
      out[m * p.n + n] = p.out.apply(acc, n);
    }
}

}  // namespace kiln::rt
