// softmax     ints: outer len inner out_max;  consts: exp table (int32, entry 0 > 0)
//             tensors: in -> out (outer x len x inner elements)
// layer_norm  ints: len in_zp eps_q norm_bits + stage (6)
//             consts: gamma (int64 [len]), beta (int64 [len]) + stage (3)
//             tensors: in -> out (same shape, rows of len elements)
#include <cstdlib>

#include "runtime/engine/op_kernel.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

namespace {

class SoftmaxKernel : public OpKernel {
 public:
  explicit SoftmaxKernel(const OpCheck& c) {
    c.inputs(1);
    c.ints(4);
    c.constsCount(1);
    const TensorDesc &in = c.in(0), &out = c.out();
    c.sameShape(in, out, "input and output");
    p_.outer = c.intAt(0, 1, in.numel(), "outer");
    p_.len = c.intAt(1, 1, in.numel(), "len");
    p_.inner = c.intAt(2, 1, in.numel(), "inner");
    if (c.product(c.product(p_.outer, p_.len, kMaxElems, "outer x len"), p_.inner, kMaxElems,
                  "outer x len x inner") != in.numel())
      c.fail("outer x len x inner != elements");
    work_ = c.work({in.numel(), 3}, "elements x 3 passes");
    p_.outMax = int32_t(c.intAt(3, 1, (int64_t(1) << out.bits) - 1, "out_max"));
    const ConstView& t = c.constAt(0, ConstType::I32, -1, "exp table");
    if (t.count < 1 || t.count > (int64_t(1) << 20)) c.fail("exp table: 1 to 2^20 entries");
    c.valuesWithin(t, 0, INT32_MAX, "exp table");
    if (t.as<int32_t>()[0] <= 0) c.fail("exp table entry 0 must be positive");
    p_.expTable = t.as<int32_t>();
    p_.expTableSize = t.count;
    in_ = in.offset, out_ = out.offset;
  }
  void run(int32_t* arena) const override { softmax(p_, arena + in_, arena + out_); }

 private:
  SoftmaxParams p_;
  int64_t in_ = 0, out_ = 0;
};

class LayerNormKernel : public OpKernel {
 public:
  explicit LayerNormKernel(const OpCheck& c) {
    c.inputs(1);
    c.ints(4 + kStageInts);
    c.constsCount(2 + kStageConsts);
    const TensorDesc &in = c.in(0), &out = c.out();
    c.sameShape(in, out, "input and output");
    p_.len = c.intAt(0, 1, int64_t(1) << 14, "len");
    if (in.numel() % p_.len != 0) c.fail("elements are not a multiple of len");
    work_ = c.work({in.numel(), 2}, "elements x 2 passes");
    p_.rows = in.numel() / p_.len;
    p_.inZp = c.zeroPointAt(1, in, "in_zp");
    p_.epsQ = c.intAt(2, 0, int64_t(1) << 56, "eps_q");
    p_.normBits = int32_t(c.intAt(3, 0, 28, "norm_bits"));
    const ConstView& gamma = c.constAt(0, ConstType::I64, p_.len, "gamma");
    c.valuesWithin(gamma, -(1 << 16), 1 << 16, "gamma");
    const ConstView& beta = c.constAt(1, ConstType::I64, p_.len, "beta");
    c.valuesWithin(beta, -(int64_t(1) << 48), int64_t(1) << 48, "beta");
    p_.gamma = gamma.as<int64_t>(), p_.beta = beta.as<int64_t>();
    // |z| <= sqrt(len) 2^norm_bits + 1 (len <= 2^14), so acc = z gamma + beta stays small.
    std::vector<int64_t> bounds(size_t(p_.len));
    for (int64_t k = 0; k < p_.len; ++k)
      bounds[size_t(k)] =
          (int64_t(1) << (p_.normBits + 8)) * std::abs(p_.gamma[k]) + std::abs(p_.beta[k]);
    c.stage(4, 2, p_.len, stage_, bounds);
    p_.out = stage_.stage;
    in_ = in.offset, out_ = out.offset;
  }
  void run(int32_t* arena) const override { layerNorm(p_, arena + in_, arena + out_); }

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
