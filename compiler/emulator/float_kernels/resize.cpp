// resize in float: nearest and (multi-)linear interpolation with ONNX's coordinate transforms,
// separable per dimension (tables of source indices and weights per output coordinate), with a
// fast path for NCHW inputs where only H and W change.
#include <algorithm>
#include <cmath>

#include "compiler/emulator/float_kernels/kernels.h"
#include "compiler/ir/resize_coords.h"

namespace kiln::float_kernels {

namespace {

struct Axis {
  std::vector<int64_t> i0, i1;
  std::vector<float> w1;  // weight of i1 (linear); 0 for nearest
};

// 4-D input where only H and W change: a 2-D gather (nearest) or bilinear blend per plane, from
// the axis tables. Axes that do not interpolate read i0 with weight 1 (as the generic path).
void resizePlanes(const FloatBuffer& x, FloatBuffer& out, const Axis& ay, const Axis& ax, bool linY,
                  bool linX) {
  const int64_t planes = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = out.shape[2], OW = out.shape[3];
  std::vector<float> tmp0(OW), tmp1(OW);
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x.data.data() + p * H * W;
    float* dst = out.data.data() + p * OH * OW;
    for (int64_t oy = 0; oy < OH; ++oy, dst += OW) {
      const float* r0 = src + ay.i0[oy] * W;
      if (!linX) {
        for (int64_t ox = 0; ox < OW; ++ox) tmp0[ox] = r0[ax.i0[ox]];
      } else {
        for (int64_t ox = 0; ox < OW; ++ox) {
          const float w = ax.w1[ox];
          tmp0[ox] = (1.f - w) * r0[ax.i0[ox]] + w * r0[ax.i1[ox]];
        }
      }
      if (!linY) {
        std::copy(tmp0.begin(), tmp0.end(), dst);
        continue;
      }
      const float* r1 = src + ay.i1[oy] * W;
      if (!linX) {
        for (int64_t ox = 0; ox < OW; ++ox) tmp1[ox] = r1[ax.i0[ox]];
      } else {
        for (int64_t ox = 0; ox < OW; ++ox) {
          const float w = ax.w1[ox];
          tmp1[ox] = (1.f - w) * r1[ax.i0[ox]] + w * r1[ax.i1[ox]];
        }
      }
      const float wy = ay.w1[oy];
      for (int64_t ox = 0; ox < OW; ++ox) dst[ox] = (1.f - wy) * tmp0[ox] + wy * tmp1[ox];
    }
  }
}

// Any rank: each output sums the 2^k corners of the k dimensions that interpolate.
void resizeGeneric(const FloatBuffer& x, FloatBuffer& out, const std::vector<Axis>& axes,
                   const std::vector<bool>& interp) {
  const size_t r = x.shape.size();
  std::vector<int64_t> xs(r, 1);
  for (int i = int(r) - 2; i >= 0; --i) xs[i] = xs[i + 1] * x.shape[i + 1];
  std::vector<size_t> lin;  // the dimensions that really interpolate
  for (size_t d = 0; d < r; ++d)
    if (interp[d]) lin.push_back(d);
  std::vector<int64_t> idx(r, 0);
  for (size_t k = 0; k < out.data.size(); ++k) {
    int64_t base = 0;
    for (size_t d = 0; d < r; ++d)
      if (!interp[d]) base += axes[d].i0[idx[d]] * xs[d];
    // Sum over the 2^|lin| corners.
    float acc = 0.f;
    for (size_t corner = 0; corner < (size_t(1) << lin.size()); ++corner) {
      int64_t off = base;
      float w = 1.f;
      for (size_t j = 0; j < lin.size(); ++j) {
        const Axis& a = axes[lin[j]];
        const bool hi = (corner >> j) & 1;
        const float wj = a.w1[idx[lin[j]]];
        w *= hi ? wj : 1.f - wj;
        off += (hi ? a.i1 : a.i0)[idx[lin[j]]] * xs[lin[j]];
      }
      acc += w * x.data[off];
    }
    out.data[k] = acc;
    for (int d = int(r) - 1; d >= 0; --d) {
      if (++idx[d] < out.shape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace

void resize(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const std::string& mode = l.attrString("mode");
  const std::string& ctm = l.attrString("coordinate_transformation_mode");
  const std::string& nm = l.attrString("nearest_mode");
  const auto& scales = l.attrFloats("scales");
  const size_t r = x.shape.size();
  std::vector<Axis> axes(r);
  std::vector<bool> interp(r, false);
  for (size_t d = 0; d < r; ++d) {
    const int64_t inLen = x.shape[d], outLen = out.shape[d];
    Axis& a = axes[d];
    for (int64_t o = 0; o < outLen; ++o) {
      double c = resizeSourceCoord(ctm, o, scales[d], inLen, outLen);
      if (mode == "nearest") {
        const int64_t i = std::clamp<int64_t>(resizeNearestIndex(nm, c), 0, inLen - 1);
        a.i0.push_back(i);
        a.i1.push_back(i);
        a.w1.push_back(0.f);
      } else {
        c = std::clamp(c, 0.0, double(inLen - 1));
        const int64_t i0 = int64_t(std::floor(c));
        const int64_t i1 = std::min(i0 + 1, inLen - 1);
        a.i0.push_back(i0);
        a.i1.push_back(i1);
        a.w1.push_back(float(c - double(i0)));
        if (c != double(i0)) interp[d] = true;
      }
    }
  }
  out.data.resize(numel(out.shape));
  const auto identity = [&](size_t d) {
    if (interp[d] || out.shape[d] != x.shape[d]) return false;
    for (int64_t o = 0; o < out.shape[d]; ++o)
      if (axes[d].i0[o] != o) return false;
    return true;
  };
  if (r == 4 && identity(0) && identity(1))
    return resizePlanes(x, out, axes[2], axes[3], interp[2], interp[3]);
  resizeGeneric(x, out, axes, interp);
}

}  // namespace kiln::float_kernels
