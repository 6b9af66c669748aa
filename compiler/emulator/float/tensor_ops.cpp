// Data movement in float: concat, slice, pad, depth_to_space, space_to_depth.
#include <algorithm>

#include "emulator/float/kernels.h"

namespace kiln::floatk {

void concat(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const int64_t axis = l.attrInt("axis");
  out.data.resize(numel(out.shape));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= out.shape[d];
  for (size_t d = axis + 1; d < out.shape.size(); ++d) inner *= out.shape[d];
  float* dst = out.data.data();
  for (int64_t o = 0; o < outer; ++o)
    for (const FloatBuffer* b : in) {
      const int64_t chunk = b->shape[axis] * inner;
      std::copy_n(b->data.data() + o * chunk, chunk, dst);
      dst += chunk;
    }
}

void slice(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const auto& st = l.attrInts("starts");
  const auto& sp = l.attrInts("steps");
  const size_t r = x.shape.size();
  out.data.resize(numel(out.shape));
  std::vector<int64_t> xs(r, 1);
  for (int i = int(r) - 2; i >= 0; --i) xs[i] = xs[i + 1] * x.shape[i + 1];
  std::vector<int64_t> idx(r, 0);
  int64_t base = 0;
  for (size_t d = 0; d < r; ++d) base += st[d] * xs[d];
  int64_t src = base;
  for (size_t k = 0; k < out.data.size(); ++k) {
    out.data[k] = x.data[src];
    for (int d = int(r) - 1; d >= 0; --d) {
      src += sp[d] * xs[d];
      if (++idx[d] < out.shape[d]) break;
      src -= sp[d] * xs[d] * out.shape[d];
      idx[d] = 0;
    }
  }
}

void pad(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const auto& p = l.attrInts("pads");
  const std::string& mode = l.attrString("mode");
  const float value = float(l.attrFloat("value", 0));
  const size_t r = x.shape.size();
  out.data.resize(numel(out.shape));
  std::vector<int64_t> xs(r, 1);
  for (int i = int(r) - 2; i >= 0; --i) xs[i] = xs[i + 1] * x.shape[i + 1];
  std::vector<int64_t> idx(r, 0);
  for (size_t k = 0; k < out.data.size(); ++k) {
    int64_t src = 0;
    bool outside = false;
    for (size_t d = 0; d < r; ++d) {
      int64_t i = idx[d] - p[d];
      const int64_t n = x.shape[d];
      if (i < 0 || i >= n) {
        if (mode == "constant" || n == 0) {
          outside = true;
          break;
        }
        if (mode == "edge") {
          i = std::clamp<int64_t>(i, 0, n - 1);
        } else {  // reflect
          const int64_t period = 2 * (n - 1);
          if (period == 0) {
            i = 0;
          } else {
            i = ((i % period) + period) % period;
            if (i >= n) i = period - i;
          }
        }
      }
      src += i * xs[d];
    }
    out.data[k] = outside ? value : x.data[src];
    for (int d = int(r) - 1; d >= 0; --d) {
      if (++idx[d] < out.shape[d]) break;
      idx[d] = 0;
    }
  }
}

void depthToSpace(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const int64_t b = l.attrInt("blocksize");
  const bool crd = l.attrString("mode", "DCR") == "CRD";
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], OC = C / (b * b);
  out.data.resize(x.data.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t oy = 0; oy < H * b; ++oy)
        for (int64_t ox = 0; ox < W * b; ++ox) {
          const int64_t by = oy % b, bx = ox % b;
          const int64_t ic = crd ? oc * b * b + by * b + bx : (by * b + bx) * OC + oc;
          out.data[((n * OC + oc) * H * b + oy) * W * b + ox] =
              x.data[((n * C + ic) * H + oy / b) * W + ox / b];
        }
}

void spaceToDepth(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const int64_t b = l.attrInt("blocksize");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = H / b, OW = W / b;
  out.data.resize(x.data.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t xx = 0; xx < W; ++xx) {
          const int64_t oc = ((y % b) * b + xx % b) * C + c;
          out.data[((n * C * b * b + oc) * OH + y / b) * OW + xx / b] =
              x.data[((n * C + c) * H + y) * W + xx];
        }
}

}  // namespace kiln::floatk
