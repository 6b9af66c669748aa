// Integer element-wise layers (two operands with broadcasting, and unary/per-channel affine).
#include "runtime/kernels/kernels.h"

#include <algorithm>

#include "runtime/kernels/eltwise_fused.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

namespace {

// Elements per range when an element-wise operation is split over threads.
constexpr int64_t kGrain = 8192;

int64_t channelOf(const std::vector<int64_t>& idx, int64_t dim) {
  return dim < 0 ? 0 : idx[dim];
}

// Whether strides read a tensor of `shape` contiguously (true) or are all 0 (a scalar: `scalar`).
bool linearStrides(const std::vector<int64_t>& st, const std::vector<int64_t>& shape,
                   bool& scalar) {
  scalar = true;
  for (int64_t v : st) scalar = scalar && v == 0;
  if (scalar) return true;
  int64_t expect = 1;
  for (int d = int(shape.size()) - 1; d >= 0; --d) {
    if (shape[size_t(d)] != 1 && st[size_t(d)] != expect) return false;
    expect *= shape[size_t(d)];
  }
  return true;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_ELT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KILN_ELT_CLONES
#endif

// acc[k] = (a[k] - zpA) * mA + (b[k] - zpB) * mB for same-shape operands, multipliers within
// int32 (the operands' differences are within int32 too): products of two int32 in int64, which
// the AVX2 clone forms with vpmuldq. The same integers as the generic loop.
KILN_ELT_CLONES
void addRun32(const Act* a, const Act* b, int64_t len, int32_t zpA, int32_t zpB, int32_t mA,
              int32_t mB, int64_t* acc) {
  for (int64_t k = 0; k < len; ++k)
    acc[k] = int64_t(int32_t(a[k]) - zpA) * mA + int64_t(int32_t(b[k]) - zpB) * mB;
}

// acc[k] = (a[k] - zpA) * (b[k] - zpB) (mult of same-shape operands: the differences are
// within int32, their product in int64, vpmuldq in the AVX2 clone).
KILN_ELT_CLONES
void mulRun32(const Act* a, const Act* b, int64_t len, int32_t zpA, int32_t zpB, int64_t* acc) {
  for (int64_t k = 0; k < len; ++k)
    acc[k] = int64_t(int32_t(a[k]) - zpA) * int64_t(int32_t(b[k]) - zpB);
}

// acc[k] = (x[k] - zp) * m + c: one operand read along the run, the other broadcast (constant
// over the run). mult: m is the broadcast operand's difference, c = 0; add/sub: m is the run
// operand's multiplier and c the broadcast operand's term. m within int32.
KILN_ELT_CLONES
void scaleRun32(const Act* x, int64_t len, int32_t zp, int32_t m, int64_t c, int64_t* acc) {
  for (int64_t k = 0; k < len; ++k) acc[k] = int64_t(int32_t(x[k]) - zp) * m + c;
}

// The accumulators of add/sub/mult (mA, mB: the operands' multipliers, mB negated for sub) over a
// run of len elements read with strides sa, sb (0: broadcast). The same integers as eltwiseOne:
// a product of the two differences for mult, (a - zpA) mA + (b - zpB) mB otherwise, the runs'
// forms only reordering exact int64 sums.
void rowAcc(const EltwiseParams& p, const Act* a, const Act* b, int64_t sa, int64_t sb, int64_t len,
            int64_t mA, int64_t mB, int64_t* acc) {
  const bool mult = p.op == EltwiseOp::Mult;
  const auto fits = [](int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; };
  if (sa == 1 && sb == 1) {
    if (mult) return mulRun32(a, b, len, p.zpA, p.zpB, acc);
    if (fits(mA) && fits(mB))
      return addRun32(a, b, len, p.zpA, p.zpB, int32_t(mA), int32_t(mB), acc);
  } else if (sa == 1 && sb == 0) {
    const int64_t y = int64_t(b[0]) - p.zpB;
    if (mult) return scaleRun32(a, len, p.zpA, int32_t(y), 0, acc);
    if (fits(mA)) return scaleRun32(a, len, p.zpA, int32_t(mA), y * mB, acc);
  } else if (sa == 0 && sb == 1) {
    const int64_t x = int64_t(a[0]) - p.zpA;
    if (mult) return scaleRun32(b, len, p.zpB, int32_t(x), 0, acc);
    if (fits(mB)) return scaleRun32(b, len, p.zpB, int32_t(mB), x * mA, acc);
  }
  if (mult) {
    for (int64_t k = 0; k < len; ++k)
      acc[k] = (int64_t(a[k * sa]) - p.zpA) * (int64_t(b[k * sb]) - p.zpB);
  } else {
    for (int64_t k = 0; k < len; ++k)
      acc[k] = (int64_t(a[k * sa]) - p.zpA) * mA + (int64_t(b[k * sb]) - p.zpB) * mB;
  }
}

// The affine form of an add/sub/mult run where one operand is read along it and the other is
// constant (strides 1 and 0): acc = (x - zp) k + c, as rowAcc's scaleRun32 forms it. False when
// the run has another form or the fused run does not apply.
bool affineOf(const EltwiseParams& p, const Act* a, const Act* b, int64_t sa, int64_t sb,
              int64_t channel, AffineRequant& r) {
  const bool mult = p.op == EltwiseOp::Mult;
  if (!mult && p.op != EltwiseOp::Add && p.op != EltwiseOp::Sub) return false;
  const int64_t mA = p.multA, mB = p.op == EltwiseOp::Sub ? -p.multB : p.multB;
  if (sa == 1 && sb == 0) {
    const int64_t y = int64_t(b[0]) - p.zpB;
    return mult ? affineRequantSetup(p.zpA, p.bitsA, y, 0, p.out, channel, r)
                : affineRequantSetup(p.zpA, p.bitsA, mA, y * mB, p.out, channel, r);
  }
  if (sa == 0 && sb == 1) {
    const int64_t x = int64_t(a[0]) - p.zpA;
    return mult ? affineRequantSetup(p.zpB, p.bitsB, x, 0, p.out, channel, r)
                : affineRequantSetup(p.zpB, p.bitsB, mB, x * mA, p.out, channel, r);
  }
  return false;
}

int32_t eltwiseOne(const EltwiseParams& p, int64_t x, int64_t y, int64_t c) {
  switch (p.op) {
    case EltwiseOp::Add:
      return p.out.apply(x * p.multA + y * p.multB, c);
    case EltwiseOp::Sub:
      return p.out.apply(x * p.multA - y * p.multB, c);
    case EltwiseOp::Mult:
      return p.out.apply(x * y, c);
    case EltwiseOp::Max:
      return p.out.apply(std::max(x * p.multA, y * p.multB), c);
    case EltwiseOp::Min:
      return p.out.apply(std::min(x * p.multA, y * p.multB), c);
    case EltwiseOp::Equal:
      return x * p.multA == y * p.multB ? p.equalOne : p.out.outZp;
    case EltwiseOp::Div: {
      // A zero divisor saturates toward the numerator's sign (the float result is ±inf).
      const int64_t num = x * p.multA;
      const int64_t q = y == 0 ? (num >= 0 ? (int64_t(1) << 40) : -(int64_t(1) << 40))
                               : divRound(num, y * (int64_t(1) << p.divShift));
      return p.out.apply(q, c);
    }
  }
  return 0;
}

}  // namespace

void eltwise(const EltwiseParams& p, const Act* a, const Act* b, Act* out) {
  const size_t r = p.outShape.size();
  bool scalarA = false, scalarB = false;
  if (p.channelDim < 0 && linearStrides(p.strideA, p.outShape, scalarA) &&
      linearStrides(p.strideB, p.outShape, scalarB)) {
    // Same-shape operands (or a scalar one): one linear pass.
    int64_t total = 1;
    for (int64_t d : p.outShape) total *= d;
    const int64_t sa = scalarA ? 0 : 1, sb = scalarB ? 0 : 1;
    AddRequant fused;
    if (!scalarA && !scalarB && addRequantSetup(p, fused)) {
      // Same-shape add/sub/mult with int32 accumulators (residual adds): one pass, no int64
      // buffer.
      parallelRanges(total, kGrain, [&](int64_t begin, int64_t end) {
        addRequantFast(p.path, fused, a + begin, b + begin, end - begin, out + begin);
      });
      return;
    }
    AffineRequant affine;
    if (affineOf(p, a, b, sa, sb, 0, affine)) {
      parallelRanges(total, kGrain, [&](int64_t begin, int64_t end) {
        affineRequantFast(p.path, affine, (sa ? a : b) + begin, end - begin, out + begin);
      });
      return;
    }
    // Residual adds dominate: their loop without the per-element op switch (~5% of BlazeFace).
    // Add, sub and mult in chunks through the run form of the stage.
    // Elements are independent: ranges of them on the session's threads.
    if (p.op == EltwiseOp::Add || p.op == EltwiseOp::Sub || p.op == EltwiseOp::Mult) {
      const int64_t mA = p.multA, mB = p.op == EltwiseOp::Sub ? -p.multB : p.multB;
      // rowAcc: the SIMD run forms where the multipliers fit int32.
      parallelRanges(total, kGrain, [&](int64_t begin, int64_t end) {
        constexpr int64_t kChunk = 512;
        int64_t acc[kChunk];
        for (int64_t k0 = begin; k0 < end; k0 += kChunk) {
          const int64_t len = std::min(kChunk, end - k0);
          rowAcc(p, a + k0 * sa, b + k0 * sb, sa, sb, len, mA, mB, acc);
          applyStage(p.out, acc, len, 0, out + k0);
        }
      });
      return;
    }
    parallelRanges(total, kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k)
        out[k] = eltwiseOne(p, int64_t(a[k * sa]) - p.zpA, int64_t(b[k * sb]) - p.zpB, 0);
    });
    return;
  }
  int64_t total = 1;
  for (int64_t d : p.outShape) total *= d;
  std::vector<int64_t> idx(r, 0);
  int64_t ia = 0, ib = 0;
  const bool rowOp = p.op == EltwiseOp::Add || p.op == EltwiseOp::Sub || p.op == EltwiseOp::Mult;
  if (r >= 1 && rowOp && p.channelDim != int64_t(r) - 1 && total > 0) {
    // Broadcasting add/sub/mult row by row along the last dimension (one channel per row),
    // through the run form of the stage: the same accumulators as eltwiseOne.
    // Rows are independent: ranges of rows on the session's threads, each starting from its
    // first row's index.
    const int64_t width = p.outShape[r - 1], sa = p.strideA[r - 1], sb = p.strideB[r - 1];
    const int64_t mA = p.multA, mB = p.op == EltwiseOp::Sub ? -p.multB : p.multB;
    parallelRanges(
        total / width, std::max<int64_t>(1, kGrain / width), [&](int64_t r0, int64_t r1) {
          std::vector<int64_t> acc(static_cast<size_t>(width)), ix(r, 0);
          int64_t ja = 0, jb = 0;
          for (int64_t d = int64_t(r) - 2, rest = r0; d >= 0; --d) {
            ix[size_t(d)] = rest % p.outShape[size_t(d)];
            rest /= p.outShape[size_t(d)];
            ja += ix[size_t(d)] * p.strideA[size_t(d)];
            jb += ix[size_t(d)] * p.strideB[size_t(d)];
          }
          // The affine form of the last row: rows of one channel against one broadcast value
          // (an SE block's scale) share it.
          AffineRequant affine;
          bool haveAffine = false;
          int64_t affineChannel = -1, affineValue = -1;
          for (int64_t row = r0; row < r1; ++row) {
            const int64_t c = channelOf(ix, p.channelDim);
            const int64_t value = sa == 1 && sb == 0 ? b[jb] : sa == 0 && sb == 1 ? a[ja] : -1;
            if (value < 0 || c != affineChannel || value != affineValue) {
              haveAffine = affineOf(p, a + ja, b + jb, sa, sb, c, affine);
              affineChannel = c, affineValue = value;
            }
            if (haveAffine) {
              // A row against a broadcast value (SE blocks' channel scales).
              affineRequantFast(p.path, affine, sa ? a + ja : b + jb, width, out + row * width);
            } else {
              rowAcc(p, a + ja, b + jb, sa, sb, width, mA, mB, acc.data());
              applyStage(p.out, acc.data(), width, c, out + row * width);
            }
            for (int d = int(r) - 2; d >= 0; --d) {
              ja += p.strideA[d];
              jb += p.strideB[d];
              if (++ix[d] < p.outShape[d]) break;
              ja -= p.strideA[d] * p.outShape[d];
              jb -= p.strideB[d] * p.outShape[d];
              ix[d] = 0;
            }
          }
        });
    return;
  }
  for (int64_t k = 0; k < total; ++k) {
    const int64_t x = int64_t(a[ia]) - p.zpA, y = int64_t(b[ib]) - p.zpB;
    const int64_t c = channelOf(idx, p.channelDim);
    const int32_t v = eltwiseOne(p, x, y, c);
    out[k] = v;
    for (int d = int(r) - 1; d >= 0; --d) {
      ia += p.strideA[d];
      ib += p.strideB[d];
      if (++idx[d] < p.outShape[d]) break;
      ia -= p.strideA[d] * p.outShape[d];
      ib -= p.strideB[d] * p.outShape[d];
      idx[d] = 0;
    }
  }
}

void unary(const UnaryParams& p, const Act* in, Act* out) {
  const size_t r = p.shape.size();
  int64_t total = 1, inner = 1, channels = 1;
  for (int64_t d : p.shape) total *= d;
  if (p.channelDim >= 0) {
    channels = p.shape[p.channelDim];
    for (size_t d = p.channelDim + 1; d < r; ++d) inner *= p.shape[d];
  } else {
    inner = total;
  }
  if (total == 0) return;
  // Runs of one channel (inner elements each), in chunks through the run form of the stage;
  // ranges of elements on the session's threads (a range may start or end inside a run).
  parallelRanges(total, kGrain, [&](int64_t begin, int64_t end) {
    constexpr int64_t kChunk = 512;
    int64_t acc[kChunk];
    for (int64_t run = begin / inner; run * inner < end; ++run) {
      const int64_t c = p.channelDim >= 0 ? run % channels : 0;
      const int64_t scale = p.scale ? p.scale[c] : 1, bias = p.bias ? p.bias[c] : 0;
      const int64_t runEnd = std::min((run + 1) * inner, end);
      AffineRequant affine;
      if (affineRequantSetup(p.inZp, p.inBits, scale, bias, p.out, c, affine)) {
        // int32 accumulators (per-channel affine normalization, plain requantization).
        const int64_t k0 = std::max(run * inner, begin);
        affineRequantFast(p.path, affine, in + k0, runEnd - k0, out + k0);
        continue;
      }
      for (int64_t k0 = std::max(run * inner, begin); k0 < runEnd; k0 += kChunk) {
        const int64_t len = std::min(kChunk, runEnd - k0);
        for (int64_t k = 0; k < len; ++k) acc[k] = (int64_t(in[k0 + k]) - p.inZp) * scale + bias;
        applyStage(p.out, acc, len, c, out + k0);
      }
    }
  });
}

}  // namespace kiln::rt
