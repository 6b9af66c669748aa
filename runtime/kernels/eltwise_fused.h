// Small element-wise runs with their output stage in one pass, for the common case where every
// accumulator provably fits int32 and the stage is a plain clamp: same-shape add/sub
// ((a - zpA) mA + (b - zpB) mB: the residual adds of small convolutional networks) and mult, and
// the affine run (x - zp) k + c (an operand against a broadcast value, per-channel unary, concat
// and resize rescaling). The same integers as OutputStage::apply on the int64 accumulator
// (requantize's 64-bit branch, which is exact for int32 accumulators).
#pragma once

#include <cstdint>

#include "runtime/kernels/kernels.h"

namespace kiln::rt {

struct AddRequant {
  int32_t zpA = 0, zpB = 0;
  int32_t mA = 0, mB = 0;    // operand multipliers (mB negated for sub)
  int32_t m = 0, shift = 1;  // the output multiplier, m >= 0, 1 <= shift <= 62
  int32_t outZp = 0, lo = 0, hi = 255;
  // Every requantized value (before zp and the clamp) lies within int32 minus the zero point,
  // so the AVX2 run clamps in 32-bit lanes; else it falls back to the scalar loop.
  bool narrowOut = false;
  // |a - zpA|, |b - zpB|, |mA|, |mB| all <= 2^15 - 1: pairs of int16 products (vpmaddwd).
  bool pairs16 = false;
  // |a - zpA|, |b - zpB| <= 2^15 - 1 and |mA|, |mB| < 2^30 (not pairs16): each multiplier as
  // hi 2^15 + lo (hi within int16, lo in [0, 2^15)), two vpmaddwd and acc = (hi sum << 15) + lo
  // sum, exact modulo 2^32 and so exact (the accumulator fits int32).
  bool split16 = false;
  // mult: acc = (a - zpA)(b - zpB) instead (mA, mB unused, pairs16 and split16 false).
  bool product = false;
};

/// One operand against a constant, with its output stage: acc = (x - zp) k + c (an eltwise
/// operand broadcast along a run, a per-channel affine `unary`), every acc within int32.
struct AffineRequant {
  int32_t zp = 0, k = 0, c = 0;
  int32_t m = 0, shift = 1;
  int32_t outZp = 0, lo = 0, hi = 255;
  bool narrowOut = false;  // as AddRequant's
};

/// Fills r for x in [0, 2^bits) and the stage's multiplier of `channel`; false when the fused
/// run does not apply (a table or leaky stage, shift 0, accumulators beyond int32).
bool affineRequantSetup(int32_t zp, int32_t bits, int64_t k, int64_t c, const OutputStage& s,
                        int64_t channel, AffineRequant& r);

/// out[i] = clamp(requantize((x[i] - zp) k + c) + outZp), i < n (AVX2 on the avx2 path).
void affineRequantFast(KernelPath path, const AffineRequant& r, const Act* x, int64_t n, Act* out);

/// Fills r for an add/sub/mult of p (operands within [0, 2^bitsA) and [0, 2^bitsB)); false when the
/// fused run does not apply (another op, a table or leaky stage, accumulators beyond int32).
bool addRequantSetup(const EltwiseParams& p, AddRequant& r);

/// out[k] = clamp(requantize((a[k] - zpA) mA + (b[k] - zpB) mB) + outZp), k < n (with product:
/// of (a[k] - zpA)(b[k] - zpB)): the scalar loop (the definition of the fused run).
void addRequantRun(const AddRequant& r, const Act* a, const Act* b, int64_t n, Act* out);

/// The same values, with AVX2 where `path` is avx2 and the CPU has it.
void addRequantFast(KernelPath path, const AddRequant& r, const Act* a, const Act* b, int64_t n,
                    Act* out);

}  // namespace kiln::rt
