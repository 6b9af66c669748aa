// Pooling and reductions.
//
// Fields: runtime/engine/ops.def.
// pool             the stage is unused by max; average: stage multiplier i is for a window of
//                  i + 1 elements (kh x kw of them); tensors: in [N, C, H, W] -> [N, C, OH, OW]
// global_avg_pool  in [N, C, ...] -> out N x C elements
// reduce           reduced: 1 for a reduced dimension; the stage is unused by max
#include "runtime/engine/op_kernel.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

namespace {

// The output size along one axis must follow from the geometry, rounding down or (ceil mode) up;
// in ceil mode the last window still starts inside the input or the leading padding, as in
// ONNX. Every window then overlaps the padded input, so a window's element count is never
// negative and its work is bounded.
void checkGeometry(const OpCheck& c, int64_t in, int64_t out, int64_t k, int64_t s, int64_t d,
                   int64_t padBegin, int64_t padEnd, const char* axis) {
  const int64_t span = in + padBegin + padEnd - (d * (k - 1) + 1);
  int64_t ceilOut = span < 0 ? 0 : (span + s - 1) / s + 1;
  if (ceilOut > 0 && (ceilOut - 1) * s >= in + padBegin) --ceilOut;
  if (span < 0 || (out != span / s + 1 && out != ceilOut))
    c.fail(std::string("output ") + axis + " " + std::to_string(out) +
           " does not follow from the input " + axis + " " + std::to_string(in) +
           " and the window geometry");
}

class PoolKernel : public OpKernel {
 public:
  explicit PoolKernel(const OpCheck& c) {
    using F = ops::Pool;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    c.rank(in, 4, "input");
    c.rank(out, 4, "output");
    ConvGeometry& g = p_.g;
    g.n = in.shape[0], g.c = in.shape[1], g.h = in.shape[2], g.w = in.shape[3];
    g.k = out.shape[1], g.oh = out.shape[2], g.ow = out.shape[3];
    if (out.shape[0] != g.n || g.k != g.c) c.fail("output batch/channels differ from the input");
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
    p_.isMax = c.field(F::is_max, 0, 1) != 0;
    p_.countIncludePad = c.field(F::count_include_pad, 0, 1) != 0;
    p_.inZp = c.zeroPoint(F::in_zp, in);
    p_.path = c.limits.kernelPath.value_or(KernelPath::Portable);
    checkGeometry(c, g.h, g.oh, g.kh, g.sh, g.dh, g.pt, g.pb, "height");
    checkGeometry(c, g.w, g.ow, g.kw, g.sw, g.dw, g.pl, g.pr, "width");
    work_ = c.work({out.numel(), g.kh, g.kw}, "output elements x kh x kw");
    if (p_.isMax) {
      if (in.bits != out.bits) c.fail("max pool keeps the input's bit width");
    } else {
      c.stage(g.kh * g.kw, stage_, {g.kh * g.kw * kMaxActivation});
      if (int64_t(stage_.mult.size()) != g.kh * g.kw)
        c.fail("average pool needs one multiplier per window element count");
      counts_.push_back({0, 0});  // a window of 0 elements never reaches the multiplier
      counts_.insert(counts_.end(), stage_.mult.begin(), stage_.mult.end());
      p_.countMult = counts_.data();
      p_.out = stage_.stage;
    }
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { pool2d(p_, arena + in_, arena + out_); }

 private:
  PoolParams p_;
  StageHolder stage_;
  std::vector<Multiplier> counts_;
  int64_t in_ = 0, out_ = 0;
};

class GlobalAvgPoolKernel : public OpKernel {
 public:
  explicit GlobalAvgPoolKernel(const OpCheck& c) {
    using F = ops::GlobalAvgPool;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    if (in.shape.size() < 2) c.fail("input needs rank 2 or more");
    nc_ = in.shape[0] * in.shape[1];
    inner_ = in.numel() / nc_;
    if (out.numel() != nc_) c.fail("output elements differ from N x C");
    work_ = c.work({in.numel()}, "input elements");
    inZp_ = c.zeroPoint(F::in_zp, in);
    c.stage(1, stage_, {inner_ * kMaxActivation});
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override {
    globalAvgPool(nc_, inner_, inZp_, stage_.stage, arena + in_, arena + out_);
  }

 private:
  int64_t nc_ = 1, inner_ = 1;
  int32_t inZp_ = 0;
  StageHolder stage_;
  int64_t in_ = 0, out_ = 0;
};

class ReduceKernel : public OpKernel {
 public:
  explicit ReduceKernel(const OpCheck& c) {
    using F = ops::Reduce;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    const size_t r = in.shape.size();
    p_.inShape = in.shape;
    p_.isMax = c.field(F::is_max, 0, 1) != 0;
    p_.inZp = c.zeroPoint(F::in_zp, in);
    int64_t kept = 1;
    for (size_t d = 0; d < r; ++d) {
      p_.reduced.push_back(c.element(F::reduced, d, 0, 1) != 0);
      if (!p_.reduced.back()) kept *= in.shape[d];
    }
    if (out.numel() != kept) c.fail("output elements differ from the kept dimensions");
    work_ = c.work({in.numel()}, "input elements");
    if (p_.isMax) {
      if (in.bits != out.bits) c.fail("reduce max keeps the input's bit width");
    } else {
      c.stage(1, stage_, {in.numel() / kept * kMaxActivation});
      p_.out = stage_.stage;
    }
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override { reduce(p_, arena + in_, arena + out_); }

 private:
  ReduceParams p_;
  StageHolder stage_;
  int64_t in_ = 0, out_ = 0;
};

}  // namespace

std::unique_ptr<OpKernel> makePoolKernel(const OpCheck& c) {
  switch (c.code()) {
    case OpCode::Pool:
      return std::make_unique<PoolKernel>(c);
    case OpCode::GlobalAvgPool:
      return std::make_unique<GlobalAvgPoolKernel>(c);
    default:
      return std::make_unique<ReduceKernel>(c);
  }
}

}  // namespace kiln::rt
