// Fields: runtime/engine/ops.def.
// softmax     exp_table: int32, entry 0 > 0; tensors: in -> out (outer x len x inner elements)
// layer_norm  gamma, beta: int64 [len]; tensors: in -> out (same shape, rows of len elements)
#include <cstdlib>

#include "runtime/engine/op_kernel.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

namespace {

class SoftmaxKernel : public OpKernel {
 public:
  explicit SoftmaxKernel(const OpCheck& c) {
    using F = ops::Softmax;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    c.sameShape(in, out, "input and output");
    p_.outer = c.field(F::outer, 1, in.numel());
    p_.len = c.field(F::len, 1, in.numel());
    p_.inner = c.field(F::inner, 1, in.numel());
    if (c.product(c.product(p_.outer, p_.len, kMaxElems, "outer x len"), p_.inner, kMaxElems,
                  "outer x len x inner") != in.numel())
      c.fail("outer x len x inner != elements");
    work_ = c.work({in.numel(), 3}, "elements x 3 passes");
    p_.outMax = int32_t(c.field(F::out_max, 1, (int64_t(1) << out.bits) - 1));
    const ConstView& t = c.constant(F::exp_table, ConstType::I32, -1);
    if (t.count < 1 || t.count > (int64_t(1) << 20)) c.fail("exp table: 1 to 2^20 entries");
    c.valuesWithin(t, 0, INT32_MAX, "exp table");
    if (t.as<int32_t>()[0] <= 0) c.fail("exp table entry 0 must be positive");
    p_.expTable = t.as<int32_t>();
    p_.expTableSize = t.count;
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { softmax(p_, arena + in_, arena + out_); }

 private:
  SoftmaxParams p_;
  int64_t in_ = 0, out_ = 0;
};

class LayerNormKernel : public OpKernel {
 public:
  explicit LayerNormKernel(const OpCheck& c) {
    using F = ops::LayerNorm;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    c.sameShape(in, out, "input and output");
    p_.len = c.field(F::len, 1, int64_t(1) << 14);
    if (in.numel() % p_.len != 0) c.fail("elements are not a multiple of len");
    work_ = c.work({in.numel(), 2}, "elements x 2 passes");
    p_.rows = in.numel() / p_.len;
    p_.inZp = c.zeroPoint(F::in_zp, in);
    p_.epsQ = c.field(F::eps_q, 0, int64_t(1) << 56);
    p_.normBits = int32_t(c.field(F::norm_bits, 0, 28));
    const ConstView& gamma = c.constant(F::gamma, ConstType::I64, p_.len);
    c.valuesWithin(gamma, -(1 << 16), 1 << 16, "gamma");
    const ConstView& beta = c.constant(F::beta, ConstType::I64, p_.len);
    c.valuesWithin(beta, -(int64_t(1) << 48), int64_t(1) << 48, "beta");
    p_.gamma = gamma.as<int64_t>(), p_.beta = beta.as<int64_t>();
    // |z| <= sqrt(len) 2^norm_bits + 1 (len <= 2^14), so acc = z gamma + beta stays small.
    std::vector<int64_t> bounds(size_t(p_.len));
    for (int64_t k = 0; k < p_.len; ++k)
      bounds[size_t(k)] =
          (int64_t(1) << (p_.normBits + 8)) * std::abs(p_.gamma[k]) + std::abs(p_.beta[k]);
    c.stage(p_.len, stage_, bounds);
    p_.out = stage_.stage;
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { layerNorm(p_, arena + in_, arena + out_); }

 private:
  LayerNormParams p_;
  StageHolder stage_;
  int64_t in_ = 0, out_ = 0;
};

}  // namespace

std::unique_ptr<OpKernel> makeNormKernel(const OpCheck& c) {
  if (c.code() == OpCode::Softmax) return std::make_unique<SoftmaxKernel>(c);
  return std::make_unique<LayerNormKernel>(c);
}

}  // namespace kiln::rt
