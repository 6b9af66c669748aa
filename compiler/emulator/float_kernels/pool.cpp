// Pooling and reductions in float: maxpool, avgpool (NCHW windows), global_avg_pool, reduce_*.
#include <algorithm>
#include <limits>

#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln::float_kernels {

void pool(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const auto& k = l.attrInts("kernel");
  const auto& s = l.attrInts("strides");
  const auto& p = l.attrInts("pads");
  const auto d = l.attrInts("dilations", {1, 1});
  const bool isMax = l.type == LayerType::MaxPool;
  const bool countPad = l.attrInt("count_include_pad", 0) != 0;
  const int64_t NC = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = out.shape[2], OW = out.shape[3];
  out.data.resize(NC * OH * OW);
  for (int64_t c = 0; c < NC; ++c) {
    const float* plane = x.data.data() + c * H * W;
    float* o = out.data.data() + c * OH * OW;
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        float acc = isMax ? -std::numeric_limits<float>::infinity() : 0.f;
        int64_t count = 0;
        const int64_t y0 = oy * s[0] - p[0], x0 = ox * s[1] - p[1];
        for (int64_t ky = 0; ky < k[0]; ++ky) {
          const int64_t iy = y0 + ky * d[0];
          for (int64_t kx = 0; kx < k[1]; ++kx) {
            const int64_t ix = x0 + kx * d[1];
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const float v = plane[iy * W + ix];
            acc = isMax ? std::max(acc, v) : acc + v;
            ++count;
          }
        }
        if (!isMax) {
          // With count_include_pad the divisor counts padding but not the ceil-mode overhang.
          if (countPad) {
            const int64_t yEnd = std::min(y0 + k[0], H + p[2]),
                          xEnd = std::min(x0 + k[1], W + p[3]);
            count = (yEnd - y0) * (xEnd - x0);
          }
          acc = count ? acc / float(count) : 0.f;
        }
        o[oy * OW + ox] = acc;
      }
  }
}

void globalAvgPool(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const int64_t NC = x.shape[0] * x.shape[1], inner = numel(x.shape) / NC;
  out.data.resize(NC);
  for (int64_t c = 0; c < NC; ++c) {
    double acc = 0;
    for (int64_t i = 0; i < inner; ++i) acc += x.data[c * inner + i];
    out.data[c] = float(acc / double(inner));
  }
}

void reduce(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const auto& axes = l.attrInts("axes");
  const size_t r = x.shape.size();
  // Output index of every input element: drop (or zero) the reduced coordinates.
  Shape kept = x.shape;
  int64_t count = 1;
  for (int64_t a : axes) {
    kept[a] = 1;
    count *= x.shape[a];
  }
  const bool isMax = l.type == LayerType::ReduceMax;
  std::vector<double> acc(numel(kept), isMax ? -std::numeric_limits<double>::infinity() : 0.0);
  std::vector<int64_t> idx(r, 0), ks(r, 1);
  for (int i = int(r) - 2; i >= 0; --i) ks[i] = ks[i + 1] * kept[i + 1];
  for (size_t k = 0; k < x.data.size(); ++k) {
    int64_t o = 0;
    for (size_t d = 0; d < r; ++d) o += (kept[d] == 1 ? 0 : idx[d]) * ks[d];
    acc[o] = isMax ? std::max(acc[o], double(x.data[k])) : acc[o] + x.data[k];
    for (int d = int(r) - 1; d >= 0; --d) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  out.data.resize(acc.size());
  for (size_t i = 0; i < acc.size(); ++i)
    out.data[i] = float(l.type == LayerType::ReduceMean ? acc[i] / double(count) : acc[i]);
}

}  // namespace kiln::float_kernels
