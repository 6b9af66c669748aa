// conv, deconv, fc and matmul operations.
//
// Fields: runtime/engine/ops.def.
// conv / deconv  weights int8/16/32 (conv [K, C/g, kh, kw], deconv [C, K/g, kh, kw]), bias int64
//                [K]; tensors: in [N, C, H, W] -> out [N, K, OH, OW]
// fc             weights [k, n], bias [n]; tensors: in (M x k elements) -> out (M x n elements)
// matmul         tensors: a [..., M, K], b [..., K, N] -> out [batch..., M, N]
#include <algorithm>
#include <cstdlib>

#include "runtime/engine/op_kernel.h"
#include "runtime/engine/shape_util.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

namespace {

constexpr int64_t kMaxBias = int64_t(1) << 48;

int64_t absWeight(const ConstView& c, int64_t i) {
  switch (c.type) {
    case ConstType::I8:
      return std::abs(int64_t(c.as<int8_t>()[i]));
    case ConstType::I16:
      return std::abs(int64_t(c.as<int16_t>()[i]));
    default:
      return std::abs(int64_t(c.as<int32_t>()[i]));
  }
}

// The accumulator bound of an output channel: sum |w| x max |x - zp| + |bias| (weights were
// checked to |w| <= 2^24, so the sum of at most 2^36 of them cannot overflow).
int64_t channelBound(const OpCheck& c, int64_t sumAbsW, int64_t bias) {
  const int64_t bound = c.product(sumAbsW, kMaxActivation, kMaxAcc, "weights") + std::abs(bias);
  c.accumulatorFits(bound, "weights and bias");
  return bound;
}

WeightPtr weightPtr(const ConstView& c) {
  switch (c.type) {
    case ConstType::I8:
      return WeightPtr(c.as<int8_t>());
    case ConstType::I16:
      return WeightPtr(c.as<int16_t>());
    default:
      return WeightPtr(c.as<int32_t>());
  }
}

class ConvKernel : public OpKernel {
 public:
  explicit ConvKernel(const OpCheck& c) : deconv_(c.code() == OpCode::Deconv) {
    using F = ops::Conv;  // deconv has the same fields (op_table_test checks it)
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    c.rank(in, 4, "input");
    c.rank(out, 4, "output");
    in_ = in.offset, out_ = out.offset;
    ConvGeometry& g = p_.g;
    g.n = in.shape[0], g.c = in.shape[1], g.h = in.shape[2], g.w = in.shape[3];
    g.k = out.shape[1], g.oh = out.shape[2], g.ow = out.shape[3];
    g.kh = c.field(F::kernel_h, 1, 4096);
    g.kw = c.field(F::kernel_w, 1, 4096);
    g.sh = c.field(F::stride_h, 1, 4096);
    g.sw = c.field(F::stride_w, 1, 4096);
    g.dh = c.field(F::dilation_h, 1, 4096);
    g.dw = c.field(F::dilation_w, 1, 4096);
    g.pt = c.field(F::pad_top, 0, 4096);
    g.pl = c.field(F::pad_left, 0, 4096);
    g.pb = c.field(F::pad_bottom, 0, 4096);
    g.pr = c.field(F::pad_right, 0, 4096);
    g.groups = c.field(F::groups, 1, g.c > 0 ? g.c : 1);
    if (out.shape[0] != g.n) c.fail("input and output batch differ");
    if (g.c % g.groups != 0 || g.k % g.groups != 0)
      c.fail("groups = " + std::to_string(g.groups) + " does not divide the " +
             std::to_string(g.c) + " input and " + std::to_string(g.k) + " output channels");
    if (!deconv_) {
      const int64_t span = g.dh * (g.kh - 1) + 1, spanW = g.dw * (g.kw - 1) + 1;
      const int64_t oh = (g.h + g.pt + g.pb - span) / g.sh + 1;
      const int64_t ow = (g.w + g.pl + g.pr - spanW) / g.sw + 1;
      if (g.h + g.pt + g.pb < span || g.w + g.pl + g.pr < spanW || oh != g.oh || ow != g.ow)
        c.fail("output size " + std::to_string(g.oh) + "x" + std::to_string(g.ow) +
               " does not follow from the input and the geometry");
    }
    p_.inZp = c.zeroPoint(F::in_zp, in);
    p_.inBits = in.bits;
    // Weights per output channel (conv) or per input channel (deconv), checked for overflow.
    const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
    const int64_t taps = c.product(g.kh, g.kw, kMaxElems, "kernel taps");
    const int64_t perChannel = c.product(deconv_ ? kg : cg, taps, kMaxElems, "weights");
    const int64_t count = c.product(deconv_ ? g.c : g.k, perChannel, kMaxElems, "weights");
    // conv: the multiply-accumulates; deconv: one pass over the input per tap and output channel
    // (C/g multiply-adds and one scatter per input element), and at least the output.
    work_ = deconv_ ? std::max(c.work({g.n, g.k, g.h, g.w, g.kh, g.kw, cg + 1},
                                      "N x K x H x W x kh x kw x (C/groups + 1)"),
                               out.numel())
                    : c.work({out.numel(), cg, g.kh, g.kw}, "output elements x C/groups x kh x kw");
    const ConstView& w = c.weights(F::weights, count);
    p_.weights = weightPtr(w);
    // The kernels' scratch (im2col column tiles, per-plane accumulators) is bounded by these
    // weights and the tensors' sizes.
    const ConstView& bias = c.constant(F::bias, ConstType::I64, g.k);
    c.valuesWithin(bias, -kMaxBias, kMaxBias, "bias");
    p_.bias = bias.as<int64_t>();
    std::vector<int64_t> sumAbsW(size_t(g.k), 0);
    if (!deconv_) {
      for (int64_t oc = 0; oc < g.k; ++oc)
        for (int64_t r = 0; r < perChannel; ++r)
          sumAbsW[size_t(oc)] += absWeight(w, oc * perChannel + r);
    } else {  // [C, K/g, kh, kw]: output channel grp * kg + j sums over the group's inputs
      for (int64_t ic = 0; ic < g.c; ++ic)
        for (int64_t j = 0; j < kg; ++j)
          for (int64_t t = 0; t < taps; ++t)
            sumAbsW[size_t(ic / cg * kg + j)] += absWeight(w, (ic * kg + j) * taps + t);
    }
    std::vector<int64_t> bounds(size_t(g.k));
    for (int64_t oc = 0; oc < g.k; ++oc)
      bounds[size_t(oc)] = channelBound(c, sumAbsW[size_t(oc)], p_.bias[oc]);
    c.stage(g.k, stage_, bounds);
    p_.out = stage_.stage;
    p_.path = c.limits.kernelPath.value_or(KernelPath::Portable);
    if (!deconv_) {                   // packed once here, shared by every session of the model
      packed_ = packConvWeights(p_);  // the path decides whether a byte form is packed too
      p_.packed = packed_.get();
    }
  }
  void run(Act* arena) const override {
    if (deconv_)
      deconv2d(p_, arena + in_, arena + out_);
    else
      conv2d(p_, arena + in_, arena + out_);
  }

 private:
  bool deconv_;
  ConvParams p_;
  std::shared_ptr<const gemm::PackedWeights> packed_;
  StageHolder stage_;
  int64_t in_ = 0, out_ = 0;
};

class FcKernel : public OpKernel {
 public:
  explicit FcKernel(const OpCheck& c) {
    using F = ops::Fc;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    p_.k = c.field(F::k, 1, int64_t(1) << 31);
    p_.n = c.field(F::n, 1, int64_t(1) << 31);
    if (in.numel() % p_.k != 0) c.fail("input elements are not a multiple of k");
    p_.m = in.numel() / p_.k;
    if (out.numel() != p_.m * p_.n) c.fail("output elements differ from m x n");
    work_ = c.work({p_.m, p_.n, p_.k}, "M x N x K");
    p_.inZp = c.zeroPoint(F::in_zp, in);
    const ConstView& w = c.weights(F::weights, p_.k * p_.n);
    p_.weights = weightPtr(w);
    const ConstView& bias = c.constant(F::bias, ConstType::I64, p_.n);
    c.valuesWithin(bias, -kMaxBias, kMaxBias, "bias");
    p_.bias = bias.as<int64_t>();
    std::vector<int64_t> sumAbsW(size_t(p_.n), 0);
    for (int64_t k = 0; k < p_.k; ++k)
      for (int64_t n = 0; n < p_.n; ++n) sumAbsW[size_t(n)] += absWeight(w, k * p_.n + n);
    std::vector<int64_t> bounds(size_t(p_.n));
    for (int64_t n = 0; n < p_.n; ++n)
      bounds[size_t(n)] = channelBound(c, sumAbsW[size_t(n)], p_.bias[n]);
    c.stage(p_.n, stage_, bounds);
    p_.out = stage_.stage;
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { fullyConnected(p_, arena + in_, arena + out_); }

 private:
  FcParams p_;
  StageHolder stage_;
  int64_t in_ = 0, out_ = 0;
};

class MatMulKernel : public OpKernel {
 public:
  explicit MatMulKernel(const OpCheck& c) {
    using F = ops::MatMul;
    c.inputs(2);
    c.fieldCounts();
    const TensorDesc &a = c.in(0), &b = c.in(1), &out = c.out();
    if (a.shape.size() < 2 || b.shape.size() < 2 || out.shape.size() < 2)
      c.fail("operands and output need rank 2 or more");
    p_.m = a.shape[a.shape.size() - 2], p_.k = a.shape.back(), p_.n = b.shape.back();
    if (b.shape[b.shape.size() - 2] != p_.k || out.shape[out.shape.size() - 2] != p_.m ||
        out.shape.back() != p_.n)
      c.fail("operand and output shapes do not agree on M, K, N");
    p_.batch.assign(out.shape.begin(), out.shape.end() - 2);
    if (!broadcastStrides({a.shape.begin(), a.shape.end() - 2}, p_.batch, p_.batchStrideA) ||
        !broadcastStrides({b.shape.begin(), b.shape.end() - 2}, p_.batch, p_.batchStrideB))
      c.fail("operand batch dimensions do not broadcast to the output");
    work_ = c.work({out.numel(), p_.k}, "output elements x K");
    p_.zpA = c.zeroPoint(F::zp_a, a);
    p_.zpB = c.zeroPoint(F::zp_b, b);
    const int64_t bound = c.product(p_.k, kMaxActivation * kMaxActivation, kMaxAcc, "K x (2^16)^2");
    c.stage(1, stage_, {bound});
    p_.out = stage_.stage;
    a_ = a.offset, b_ = b.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { matmul(p_, arena + a_, arena + b_, arena + out_); }

 private:
  MatMulParams p_;
  StageHolder stage_;
  int64_t a_ = 0, b_ = 0, out_ = 0;
};

}  // namespace

std::unique_ptr<OpKernel> makeLinearKernel(const OpCheck& c) {
  switch (c.code()) {
    case OpCode::Fc:
      return std::make_unique<FcKernel>(c);
    case OpCode::MatMul:
      return std::make_unique<MatMulKernel>(c);
    default:
      return std::make_unique<ConvKernel>(c);
  }
}

}  // namespace kiln::rt
