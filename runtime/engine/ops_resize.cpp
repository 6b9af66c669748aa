// resize  fields: runtime/engine/ops.def.
//         i0, i1, w1: int64, for each dimension one entry per output coordinate, dimensions in
//         order: source indices within the input dimension, weights of the second tap within
//         [0, 2^weight_bits]; tensors: in -> out (same rank).
#include "runtime/engine/op_kernel.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

namespace {

class ResizeKernel : public OpKernel {
 public:
  explicit ResizeKernel(const OpCheck& c) {
    using F = ops::Resize;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    const size_t r = in.shape.size();
    c.rank(out, r, "output");
    p_.inShape = in.shape, p_.outShape = out.shape;
    p_.weightBits = int32_t(c.field(F::weight_bits, 0, 16));
    p_.inZp = c.zeroPoint(F::in_zp, in);
    p_.path = c.limits.kernelPath.value_or(KernelPath::Portable);
    int64_t coords = 0, interpolated = 0;
    for (size_t d = 0; d < r; ++d) {
      p_.interpolated.push_back(c.element(F::interpolated, d, 0, 1) != 0);
      interpolated += p_.interpolated.back();
      coords += out.shape[d];
    }
    if (interpolated > 4) c.fail("more than 4 interpolated dimensions");
    work_ = c.work({out.numel(), int64_t(1) << interpolated},
                   "output elements x 2^interpolated dimensions");
    // A corner's weight is a product of one factor <= 2^weight_bits per interpolated dimension.
    if (p_.weightBits * interpolated > 40)
      c.fail("weight_bits = " + std::to_string(p_.weightBits) + " over " +
             std::to_string(interpolated) + " interpolated dimensions exceeds 40 bits of weight");
    const ConstView& i0 = c.constant(F::i0, ConstType::I64, coords);
    const ConstView& i1 = c.constant(F::i1, ConstType::I64, coords);
    const ConstView& w1 = c.constant(F::w1, ConstType::I64, coords);
    c.valuesWithin(w1, 0, int64_t(1) << p_.weightBits, "w1");
    int64_t off = 0;
    for (size_t d = 0; d < r; ++d) {
      const int64_t n = out.shape[d];
      auto part = [&](const ConstView& v, const char* field) {
        std::vector<int64_t> x(v.as<int64_t>() + off, v.as<int64_t>() + off + n);
        for (int64_t i : x)
          if (i < 0 || i >= in.shape[d])
            c.fail(std::string(field) + " index " + std::to_string(i) + " outside dimension " +
                   std::to_string(d) + " of size " + std::to_string(in.shape[d]));
        return x;
      };
      p_.i0.push_back(part(i0, "i0"));
      p_.i1.push_back(part(i1, "i1"));
      p_.w1.emplace_back(w1.as<int64_t>() + off, w1.as<int64_t>() + off + n);
      off += n;
    }
    c.stage(1, stage_, {(int64_t(1) << (p_.weightBits * interpolated)) * kMaxActivation});
    p_.out = stage_.stage;
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { resize(p_, arena + in_, arena + out_); }

 private:
  ResizeParams p_;
  StageHolder stage_;
  int64_t in_ = 0, out_ = 0;
};

}  // namespace

std::unique_ptr<OpKernel> makeResizeKernel(const OpCheck& c) {
  return std::make_unique<ResizeKernel>(c);
}

}  // namespace kiln::rt
