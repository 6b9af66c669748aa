#include "calib/image_layout.h"

#include <algorithm>
#include <cmath>

namespace kiln::calib {

ImageLayout imageLayoutFor(const InputSpec& input) {
  const auto& s = input.shape;
  auto fail = [&](const std::string& why) {
    return CalibError("input '" + input.name + "' with shape " + shapeStr(s) +
                      " cannot take images: " + why);
  };
  if (s.size() != 4) throw fail("expected a rank-4 NCHW or NHWC input");
  if (s[0] != 1) throw fail("expected batch size 1");
  for (int64_t d : s)
    if (d <= 0) throw fail("every dimension must be known and positive");
  ImageLayout l;
  auto pick = [&](bool nchw) {
    l.nchw = nchw;
    l.channels = nchw ? s[1] : s[3];
    l.height = nchw ? s[2] : s[1];
    l.width = nchw ? s[3] : s[2];
    return l;
  };
  if (s[1] == 3) return pick(true);
  if (s[3] == 3) return pick(false);
  if (s[1] == 1 || s[1] == 4) return pick(true);
  if (s[3] == 1 || s[3] == 4) return pick(false);
  throw fail("no channel axis of size 3 (or 1 or 4) at position 1 (NCHW) or last (NHWC)");
}

namespace {

struct Tap {
  int64_t i0, i1;
  float w1;  // weight of i1; i0 gets 1 - w1
};

std::vector<Tap> taps(int64_t in, int64_t out) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const double scale = double(in) / double(out);
  for (int64_t o = 0; o < out; ++o) {
    double src = (double(o) + 0.5) * scale - 0.5;
    src = std::clamp(src, 0.0, double(in - 1));
    const int64_t i0 = std::min<int64_t>(int64_t(std::floor(src)), in - 1);
    t[size_t(o)] = {i0, std::min(i0 + 1, in - 1), float(src - double(i0))};
  }
  return t;
}

}  // namespace

std::vector<float> resizeBilinear(const Image& img, int64_t outHeight, int64_t outWidth) {
  const int64_t c = img.channels;
  const std::vector<Tap> xs = taps(img.width, outWidth), ys = taps(img.height, outHeight);
  std::vector<float> out(size_t(outHeight * outWidth * c));
  const size_t stride = size_t(img.width) * size_t(c);
  for (int64_t y = 0; y < outHeight; ++y) {
    const Tap& ty = ys[size_t(y)];
    const size_t r0 = size_t(ty.i0) * stride, r1 = size_t(ty.i1) * stride;
    for (int64_t x = 0; x < outWidth; ++x) {
      const Tap& tx = xs[size_t(x)];
      for (int64_t ch = 0; ch < c; ++ch) {
        const size_t a = size_t(tx.i0 * c + ch), b = size_t(tx.i1 * c + ch);
        const float top = img.at(r0 + a) * (1 - tx.w1) + img.at(r0 + b) * tx.w1;
        const float bottom = img.at(r1 + a) * (1 - tx.w1) + img.at(r1 + b) * tx.w1;
        out[size_t((y * outWidth + x) * c + ch)] = top * (1 - ty.w1) + bottom * ty.w1;
      }
    }
  }
  return out;
}

std::vector<float> imageToTensor(const Image& img, const ImageLayout& l) {
  const std::vector<float> hwc = resizeBilinear(img, l.height, l.width);
  const int64_t sc = img.channels, dc = l.channels, hw = l.height * l.width;
  const bool srcGray = sc <= 2;
  std::vector<float> out(size_t(hw * dc));
  for (int64_t p = 0; p < hw; ++p) {
    const float* px = hwc.data() + p * sc;
    float rgba[4];
    if (srcGray) {
      rgba[0] = rgba[1] = rgba[2] = px[0];
      rgba[3] = sc == 2 ? px[1] : 255.0f;
    } else {
      rgba[0] = px[0], rgba[1] = px[1], rgba[2] = px[2];
      rgba[3] = sc == 4 ? px[3] : 255.0f;
    }
    for (int64_t ch = 0; ch < dc; ++ch) {
      float v;
      if (dc == 1)
        v = srcGray ? px[0] : 0.299f * rgba[0] + 0.587f * rgba[1] + 0.114f * rgba[2];
      else
        v = rgba[ch];
      out[size_t(l.nchw ? ch * hw + p : p * dc + ch)] = v;
    }
  }
  return out;
}

}  // namespace kiln::calib
