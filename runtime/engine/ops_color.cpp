// Camera input formats and colour conversion (the model script's input_conversion). The
// definitions are common/yuv.h's, shared with the float emulation; docs/arithmetic.md §7.
//
// Fields: runtime/engine/ops.def.
// format_conversion  format: a yuv::Format (file values 1..5); in: a raw frame per image
//                    [N, a, b, c] (yuv::rawFrameShape), out: [N, 3, H, W]
// color_conversion   in, out: [N, 3, H, W]; out = clamp((m (x - offset) + 2^(shift-1)) >> shift,
//                    0, 255) per pixel, m the 3 x 3 matrix m00..m22 (rows: output channels)
#include "common/yuv.h"
#include "runtime/engine/op_kernel.h"

namespace kiln::rt {

namespace {

class FormatConversionKernel : public OpKernel {
 public:
  explicit FormatConversionKernel(const OpCheck& c) {
    using F = ops::FormatConversion;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    format_ = yuv::Format(c.field(F::format, 1, yuv::kMaxFormat));
    c.rank(in, 4, "input");
    c.rank(out, 4, "output");
    if (out.shape[1] != 3) c.fail("the output must have 3 channels");
    n_ = out.shape[0], h_ = out.shape[2], w_ = out.shape[3];
    if (const std::string why = yuv::sizeProblem(format_, h_, w_); !why.empty()) c.fail(why);
    const std::vector<int64_t> frame = yuv::rawFrameShape(format_, h_, w_);
    if (in.shape != std::vector<int64_t>{n_, frame[0], frame[1], frame[2]})
      c.fail(std::string("the input is not a ") + yuv::formatName(format_) +
             " frame of the output's size");
    if (out.bits < in.bits) c.fail("the output is narrower than the input");
    work_ = c.work({out.numel()}, "output elements");
    in_ = in.offset, out_ = out.offset, frameIn_ = in.numel() / n_;
  }
  void run(Act* arena) const override {
    for (int64_t n = 0; n < n_; ++n)
      yuv::unpackFrame(format_, h_, w_, arena + in_ + n * frameIn_, arena + out_ + n * 3 * h_ * w_);
  }

 private:
  yuv::Format format_;
  int64_t n_, h_, w_, in_, out_, frameIn_;
};

class ColorConversionKernel : public OpKernel {
 public:
  explicit ColorConversionKernel(const OpCheck& c) {
    using F = ops::ColorConversion;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    c.rank(in, 4, "input");
    c.sameShape(in, out, "output");
    if (in.shape[1] != 3) c.fail("the input must have 3 channels");
    if (out.bits < 8) c.fail("the output must hold 0..255");
    // |m| < 2^24 and |x - offset| < 2^17: each sum stays far inside int64.
    m_.shift = int32_t(c.field(F::shift, 0, 30));
    const size_t offsets[3] = {F::offset_0, F::offset_1, F::offset_2};
    for (int k = 0; k < 3; ++k) m_.offset[k] = int32_t(c.field(offsets[k], 0, kMaxActivation - 1));
    const size_t coeffs[9] = {F::m00, F::m01, F::m02, F::m10, F::m11,
                              F::m12, F::m20, F::m21, F::m22};
    for (int i = 0; i < 9; ++i)
      m_.m[i / 3][i % 3] = int32_t(c.field(coeffs[i], -(int64_t(1) << 24), int64_t(1) << 24));
    work_ = c.work({out.numel(), 3}, "output elements x 3");
    n_ = in.shape[0], hw_ = in.shape[2] * in.shape[3], in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override {
    for (int64_t n = 0; n < n_; ++n) {
      const Act* x = arena + in_ + n * 3 * hw_;
      Act* y = arena + out_ + n * 3 * hw_;
      for (int o = 0; o < 3; ++o)
        for (int64_t i = 0; i < hw_; ++i)
          y[o * hw_ + i] = yuv::convertPixel(m_, o, x[i], x[hw_ + i], x[2 * hw_ + i]);
    }
  }

 private:
  yuv::ColorMatrix m_;
  int64_t n_, hw_, in_, out_;
};

}  // namespace

std::unique_ptr<OpKernel> makeColorKernel(const OpCheck& c) {
  if (c.code() == OpCode::FormatConversion) return std::make_unique<FormatConversionKernel>(c);
  return std::make_unique<ColorConversionKernel>(c);
}

}  // namespace kiln::rt
