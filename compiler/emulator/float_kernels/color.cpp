// Camera formats and colour conversion (input_conversion): the float meaning of the definitions in
// common/yuv.h. format_conversion moves values exactly as the runtime does; color_conversion
// applies the same fixed-point matrix in real arithmetic, clamped to [0, 255] but not rounded
// (the integer kernel rounds half up: the two differ by at most 0.5 per value).
#include "common/yuv.h"
#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln::float_kernels {

void formatConversion(const Layer& l, const Inputs& in, FloatBuffer& out) {
  yuv::Format f;
  if (!yuv::parseFormat(l.attrString("format"), f))
    throw Error("layer " + l.name + ": unknown format '" + l.attrString("format") + "'");
  const Shape& s = out.shape;  // [N, 3, H, W]
  const int64_t h = s[2], w = s[3], frameIn = numel(in[0]->shape) / s[0];
  out.data.resize(size_t(numel(s)));
  for (int64_t n = 0; n < s[0]; ++n)
    yuv::unpackFrame(f, h, w, in[0]->data.data() + n * frameIn, out.data.data() + n * 3 * h * w);
}

void colorConversion(const Layer& l, const Inputs& in, FloatBuffer& out) {
  yuv::ColorMatrix c;
  if (!yuv::colorMatrix(l.attrString("conversion"), c))
    throw Error("layer " + l.name + ": unknown conversion '" + l.attrString("conversion") + "'");
  const Shape& s = out.shape;  // [N, 3, H, W]
  const int64_t hw = s[2] * s[3];
  out.data.resize(size_t(numel(s)));
  const double unit = 1.0 / double(int64_t(1) << c.shift);
  for (int64_t n = 0; n < s[0]; ++n) {
    const float* x = in[0]->data.data() + n * 3 * hw;
    float* y = out.data.data() + n * 3 * hw;
    for (int o = 0; o < 3; ++o)
      for (int64_t i = 0; i < hw; ++i) {
        double v = 0;
        for (int k = 0; k < 3; ++k) v += c.m[o][k] * unit * (double(x[k * hw + i]) - c.offset[k]);
        y[o * hw + i] = float(std::min(255.0, std::max(0.0, v)));
      }
  }
}

}  // namespace kiln::float_kernels
