// Data movement (quantization unchanged) and concat.
//
// Fields: runtime/engine/ops.def.
// copy            in -> out, same element count (reshape)
// slice           steps may be negative; every read in range
// pad             mode: an rt::PadMode (file values); the output shape gives the end pads
// depth_to_space  crd: 0 DCR, 1 CRD (NCHW, as space_to_depth)
// concat          the stage has one multiplier per input
// const           value: int32, one per output element
#include <algorithm>
#include <cstring>

#include "runtime/engine/op_kernel.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

namespace {

class CopyKernel : public OpKernel {
 public:
  explicit CopyKernel(const OpCheck& c) {
    c.inputs(1);
    c.fieldCounts();
    if (c.in(0).numel() != c.out().numel()) c.fail("input and output element counts differ");
    work_ = c.work({c.out().numel()}, "elements");
    in_ = c.in(0).offset, out_ = c.out().offset, n_ = c.out().numel();
  }
  void run(Act* arena) const override {
    if (in_ != out_) std::memmove(arena + out_, arena + in_, size_t(n_) * sizeof(Act));
  }

 private:
  int64_t in_, out_, n_;
};

class TransposeKernel : public OpKernel {
 public:
  explicit TransposeKernel(const OpCheck& c) {
    using F = ops::Transpose;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    const size_t r = in.shape.size();
    c.rank(out, r, "output");
    work_ = c.work({out.numel()}, "elements");
    std::vector<bool> seen(r, false);
    for (size_t i = 0; i < r; ++i) {
      const int64_t p = c.element(F::perm, i, 0, int64_t(r) - 1);
      if (seen[size_t(p)]) c.fail("perm repeats dimension " + std::to_string(p));
      seen[size_t(p)] = true;
      if (out.shape[i] != in.shape[size_t(p)]) c.fail("output shape is not the permuted input");
      perm_.push_back(p);
    }
    shape_ = in.shape, in_ = in.offset, out_ = out.offset;
    path_ = c.limits.kernelPath.value_or(KernelPath::Portable);
  }
  void run(Act* arena) const override {
    transpose(shape_, perm_, arena + in_, arena + out_, path_);
  }

 private:
  KernelPath path_ = KernelPath::Portable;
  std::vector<int64_t> shape_, perm_;
  int64_t in_, out_;
};

class SliceKernel : public OpKernel {
 public:
  explicit SliceKernel(const OpCheck& c) {
    using F = ops::Slice;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    const size_t r = in.shape.size();
    c.rank(out, r, "output");
    work_ = c.work({out.numel()}, "output elements");
    for (size_t d = 0; d < r; ++d) {
      const int64_t n = in.shape[d];
      const int64_t s = c.element(F::start, d, 0, n - 1);
      const int64_t st = c.element(F::step, d, -n, n);
      const int64_t last = s + (out.shape[d] - 1) * st;
      if (st == 0 || last < 0 || last >= n) c.fail("slice reads outside the input");
      starts_.push_back(s), steps_.push_back(st);
    }
    inShape_ = in.shape, outShape_ = out.shape, in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override {
    slice(inShape_, outShape_, starts_, steps_, arena + in_, arena + out_);
  }

 private:
  std::vector<int64_t> inShape_, outShape_, starts_, steps_;
  int64_t in_, out_;
};

class PadKernel : public OpKernel {
 public:
  explicit PadKernel(const OpCheck& c) {
    using F = ops::Pad;
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    const size_t r = in.shape.size();
    c.rank(out, r, "output");
    work_ = c.work({out.numel()}, "output elements");
    mode_ = PadMode(c.field(F::mode, 0, int64_t(PadMode::Edge)));
    value_ = int32_t(c.field(F::value, 0, (int64_t(1) << out.bits) - 1));
    for (size_t d = 0; d < r; ++d) pads_.push_back(c.element(F::pad_begin, d, -(1 << 20), 1 << 20));
    inShape_ = in.shape, outShape_ = out.shape, in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override {
    pad(inShape_, outShape_, pads_, mode_, value_, arena + in_, arena + out_);
  }

 private:
  std::vector<int64_t> inShape_, outShape_, pads_;
  PadMode mode_;
  int32_t value_;
  int64_t in_, out_;
};

class BlockKernel : public OpKernel {
 public:
  explicit BlockKernel(const OpCheck& c) : toSpace_(c.code() == OpCode::DepthToSpace) {
    using F = ops::DepthToSpace;  // space_to_depth: the same blocksize, no crd
    static_assert(size_t(ops::SpaceToDepth::blocksize) == size_t(F::blocksize));
    c.inputs(1);
    c.fieldCounts();
    const TensorDesc &in = c.in(0), &out = c.out();
    c.rank(in, 4, "input");
    c.rank(out, 4, "output");
    work_ = c.work({out.numel()}, "elements");
    b_ = c.field(F::blocksize, 1, 1024);
    crd_ = toSpace_ && c.field(F::crd, 0, 1) != 0;
    n_ = in.shape[0], c_ = in.shape[1], h_ = in.shape[2], w_ = in.shape[3];
    const std::vector<int64_t> want =
        toSpace_ ? std::vector<int64_t>{n_, c_ / (b_ * b_), h_ * b_, w_ * b_}
                 : std::vector<int64_t>{n_, c_ * b_ * b_, h_ / b_, w_ / b_};
    const bool divisible = toSpace_ ? c_ % (b_ * b_) == 0 : (h_ % b_ == 0 && w_ % b_ == 0);
    if (!divisible || out.shape != want) c.fail("shapes do not agree with the blocksize");
    in_ = in.offset, out_ = out.offset;
  }
  void run(Act* arena) const override {
    if (toSpace_)
      depthToSpace(n_, c_, h_, w_, b_, crd_, arena + in_, arena + out_);
    else
      spaceToDepth(n_, c_, h_, w_, b_, arena + in_, arena + out_);
  }

 private:
  bool toSpace_, crd_ = false;
  int64_t b_ = 1, n_ = 0, c_ = 0, h_ = 0, w_ = 0, in_ = 0, out_ = 0;
};

class ConcatKernel : public OpKernel {
 public:
  explicit ConcatKernel(const OpCheck& c) {
    using F = ops::Concat;
    const size_t n = c.op.inputs.size();
    if (n < 1) c.fail("needs at least one input");
    c.fieldCounts();
    const TensorDesc& out = c.out();
    const size_t r = out.shape.size();
    work_ = c.work({out.numel()}, "output elements");
    const int64_t axis = c.field(F::axis, 0, int64_t(r) - 1);
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      const TensorDesc& t = c.in(i);
      c.rank(t, r, "input");
      for (size_t d = 0; d < r; ++d)
        if (int64_t(d) != axis && t.shape[d] != out.shape[d])
          c.fail("input " + std::to_string(i) + " differs from the output off the axis");
      total += t.shape[size_t(axis)];
      shapes_.push_back(t.shape);
      offsets_.push_back(t.offset);
      zps_.push_back(c.zeroPointElement(F::zp, i, t));
    }
    if (total != out.shape[size_t(axis)]) c.fail("inputs do not add up to the output's axis");
    c.stage(int64_t(n), stage_, {kMaxActivation});
    if (stage_.mult.size() != n) c.fail("concat needs one multiplier per input");
    for (size_t i = 0; i < n; ++i) {
      OutputStage s = stage_.stage;
      s.mult = &stage_.mult[i];
      s.multNeg = s.multNeg ? &stage_.multNeg[i] : nullptr;
      s.perChannel = false;
      stages_.push_back(s);
      copy_.push_back(stageIsIdentity(s, zps_[i], c.in(i).bits));
    }
    axis_ = axis, out_ = out.offset;
    path_ = c.limits.kernelPath.value_or(KernelPath::Portable);
  }
  void run(Act* arena) const override {
    std::vector<const Act*> ptrs;
    for (int64_t o : offsets_) ptrs.push_back(arena + o);
    concatAxis(shapes_, axis_, ptrs, zps_, stages_, arena + out_, copy_, path_);
  }

 private:
  std::vector<std::vector<int64_t>> shapes_;
  std::vector<int64_t> offsets_;
  std::vector<int32_t> zps_;
  std::vector<OutputStage> stages_;
  std::vector<bool> copy_;
  KernelPath path_ = KernelPath::Portable;
  StageHolder stage_;
  int64_t axis_ = 0, out_ = 0;
};

class ConstKernel : public OpKernel {
 public:
  explicit ConstKernel(const OpCheck& c) {
    using F = ops::Const;
    c.inputs(0);
    c.fieldCounts();
    const TensorDesc& out = c.out();
    work_ = c.work({out.numel()}, "elements");
    const ConstView& v = c.constant(F::value, ConstType::I32, out.numel());
    c.valuesWithin(v, 0, (int64_t(1) << out.bits) - 1, "value");
    value_ = v.as<int32_t>(), n_ = v.count, out_ = out.offset;
  }
  void run(Act* arena) const override {
    // The stored int32 values were checked within the tensor's range: exact as Act.
    std::copy(value_, value_ + n_, arena + out_);
  }

 private:
  const int32_t* value_;
  int64_t n_, out_;
};

}  // namespace

std::unique_ptr<OpKernel> makeMovementKernel(const OpCheck& c) {
  switch (c.code()) {
    case OpCode::Copy:
      return std::make_unique<CopyKernel>(c);
    case OpCode::Transpose:
      return std::make_unique<TransposeKernel>(c);
    case OpCode::Slice:
      return std::make_unique<SliceKernel>(c);
    case OpCode::Pad:
      return std::make_unique<PadKernel>(c);
    case OpCode::DepthToSpace:
    case OpCode::SpaceToDepth:
      return std::make_unique<BlockKernel>(c);
    case OpCode::Concat:
      return std::make_unique<ConcatKernel>(c);
    default:
      return std::make_unique<ConstKernel>(c);
  }
}

}  // namespace kiln::rt
