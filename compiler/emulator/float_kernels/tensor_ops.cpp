// Data movement in float: concat, slice, pad, depth_to_space, space_to_depth.
#include <algorithm>

#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln::float_kernels {

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

namespace {

// Source index along one padded dimension, or -1 when the position reads the constant value.
int64_t padSource(int64_t i, int64_t n, int mode) {
  if (i >= 0 && i < n) return i;
  if (mode == 0 || n == 0) return -1;
  if (mode == 1) return std::clamp<int64_t>(i, 0, n - 1);  // edge
  const int64_t period = 2 * (n - 1);                      // reflect
  if (period == 0) return 0;
  i = ((i % period) + period) % period;
  return i >= n ? period - i : i;
}

}  // namespace

void pad(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const auto& p = l.attrInts("pads");
  const std::string& modeName = l.attrString("mode");
  const int mode = modeName == "constant" ? 0 : modeName == "edge" ? 1 : 2;
  const float value = float(l.attrFloat("value", 0));
  const size_t r = x.shape.size();
  out.data.resize(numel(out.shape));
  if (out.data.empty()) return;
  if (r == 0) {
    out.data[0] = x.data[0];
    return;
  }
  std::vector<int64_t> xs(r, 1);
  for (int i = int(r) - 2; i >= 0; --i) xs[i] = xs[i + 1] * x.shape[i + 1];
  // The last dimension as a table of sources, then one output row at a time.
  const int64_t OW = out.shape[r - 1], W = x.shape[r - 1], pl = p[r - 1];
  std::vector<int64_t> col(OW);
  for (int64_t o = 0; o < OW; ++o) col[o] = padSource(o - pl, W, mode);
  const int64_t lo = std::clamp<int64_t>(pl, 0, OW), hi = std::clamp<int64_t>(pl + W, lo, OW);
  std::vector<int64_t> idx(r, 0);
  for (float* dst = out.data.data(); dst < out.data.data() + out.data.size(); dst += OW) {
    int64_t src = 0;
    bool outside = false;
    for (size_t d = 0; d + 1 < r && !outside; ++d) {
      const int64_t i = padSource(idx[d] - p[d], x.shape[d], mode);
      outside = i < 0;
      src += i * xs[d];
    }
    if (outside) {
      std::fill(dst, dst + OW, value);
    } else {
      const float* row = x.data.data() + src;
      for (int64_t o = 0; o < lo; ++o) dst[o] = col[o] < 0 ? value : row[col[o]];
      std::copy(row + (lo - pl), row + (hi - pl), dst + lo);
      for (int64_t o = hi; o < OW; ++o) dst[o] = col[o] < 0 ? value : row[col[o]];
    }
    for (int d = int(r) - 2; d >= 0; --d) {
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

}  // namespace kiln::float_kernels
