// Element-wise operations.
//
// Fields: runtime/engine/ops.def.
// eltwise  tensors: a, b (broadcast to out) -> out; op: an rt::EltwiseOp (file values)
// unary    tensors: in -> out (same shape); scale, bias: int64 [C] or absent
#include <cstdlib>

#include "runtime/engine/op_kernel.h"
#include "runtime/engine/shape_util.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

namespace {

constexpr int64_t kMaxOperandMult = int64_t(1) << 31;

int64_t channelsOf(const OpCheck& c, const TensorDesc& t, int64_t dim) {
  if (dim < -1 || dim >= int64_t(t.shape.size())) c.fail("channel_dim out of range");
  return dim < 0 ? 1 : t.shape[size_t(dim)];
}

class EltwiseKernel : public OpKernel {
 public:
  explicit EltwiseKernel(const OpCheck& c) {
    using F = ops::Eltwise;
    c.inputs(2);
    c.fieldCounts();
    const TensorDesc &a = c.in(0), &b = c.in(1), &out = c.out();
    p_.op = EltwiseOp(c.field(F::op, 0, int64_t(EltwiseOp::Equal)));
    p_.zpA = c.zeroPoint(F::zp_a, a);
    p_.zpB = c.zeroPoint(F::zp_b, b);
    p_.multA = c.field(F::mult_a, -kMaxOperandMult, kMaxOperandMult);
    p_.multB = c.field(F::mult_b, -kMaxOperandMult, kMaxOperandMult);
    p_.divShift = int32_t(c.field(F::div_shift, 0, 24));
    p_.equalOne = int32_t(c.field(F::equal_one, 0, (int64_t(1) << out.bits) - 1));
    p_.channelDim = c.field(F::channel_dim, -1, 16);
    p_.outShape = out.shape;
    p_.bitsA = a.bits, p_.bitsB = b.bits;
    p_.path = c.limits.kernelPath.value_or(KernelPath::Portable);
    if (!broadcastStrides(a.shape, out.shape, p_.strideA) ||
        !broadcastStrides(b.shape, out.shape, p_.strideB))
      c.fail("operand shapes do not broadcast to the output shape");
    work_ = c.work({out.numel()}, "output elements");
    // add/sub: |x mult_a| + |y mult_b|; mult: |x y|; div: |quotient| <= max(|x mult_a|, 2^40).
    const int64_t bound = kMaxActivation * (std::abs(p_.multA) + std::abs(p_.multB)) +
                          kMaxActivation * kMaxActivation + (int64_t(1) << 40);
    c.stage(channelsOf(c, out, p_.channelDim), stage_, {bound});
    p_.out = stage_.stage;
    a_ = a.offset, b_ = b.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { eltwise(p_, arena + a_, arena + b_, arena + out_); }

 private:
  EltwiseParams p_;
  StageHolder stage_;
  int64_t a_ = 0, b_ = 0, out_ = 0;
};

class UnaryKernel : public OpKernel {
 public:
  explicit UnaryKernel(const OpCheck& c) {
    using F = ops::Unary;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    c.sameShape(in, out, "input and output");
    work_ = c.work({out.numel()}, "elements");
    p_.shape = out.shape;
    p_.channelDim = c.field(F::channel_dim, -1, 16);
    const int64_t channels = channelsOf(c, out, p_.channelDim);
    p_.inZp = c.zeroPoint(F::in_zp, in);
    p_.inBits = in.bits;
    p_.path = c.limits.kernelPath.value_or(KernelPath::Portable);
    const ConstView* scale = c.optConstant(F::scale, ConstType::I64, channels);
    const ConstView* bias = c.optConstant(F::bias, ConstType::I64, channels);
    // Per-channel bounds only when per-channel constants exist (their size is in the file).
    std::vector<int64_t> bounds(scale || bias ? size_t(channels) : 1, kMaxActivation);
    if (scale) {
      c.valuesWithin(*scale, -kMaxOperandMult, kMaxOperandMult, "scale");
      p_.scale = scale->as<int64_t>();
      for (int64_t k = 0; k < channels; ++k) bounds[size_t(k)] *= std::abs(p_.scale[k]);
    }
    if (bias) {
      c.valuesWithin(*bias, -(int64_t(1) << 48), int64_t(1) << 48, "bias");
      p_.bias = bias->as<int64_t>();
      for (int64_t k = 0; k < channels; ++k) bounds[size_t(k)] += std::abs(p_.bias[k]);
    }
    c.stage(channels, stage_, bounds);
    p_.out = stage_.stage;
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { unary(p_, arena + in_, arena + out_); }

 private:
  UnaryParams p_;
  StageHolder stage_;
  int64_t in_ = 0, out_ = 0;
};

}  // namespace

std::unique_ptr<OpKernel> makeEltwiseKernel(const OpCheck& c) {
  if (c.code() == OpCode::Eltwise) return std::make_unique<EltwiseKernel>(c);
  return std::make_unique<UnaryKernel>(c);
}

}  // namespace kiln::rt
