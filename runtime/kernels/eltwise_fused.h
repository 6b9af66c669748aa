// Same-shape add/sub with its output stage in one pass, for the common case where every
// accumulator (a - zpA) mA + (b - zpB) mB fits int32 and the stage is a plain clamp: the residual
// adds of small convolutional networks. The same integers as OutputStage::apply on the int64
// accumulator (requantize's 64-bit branch, which is exact for int32 accumulators).
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
};

/// Fills r for an add/sub of p (operands within [0, 2^bitsA) and [0, 2^bitsB)); false when the
/// fused run does not apply (another op, a table or leaky stage, accumulators beyond int32).
bool addRequantSetup(const EltwiseParams& p, AddRequant& r);

/// out[k] = clamp(requantize((a[k] - zpA) mA + (b[k] - zpB) mB) + outZp), k < n: the scalar loop
/// (the definition of the fused run).
void addRequantRun(const AddRequant& r, const Act* a, const Act* b, int64_t n, Act* out);

/// The same values, with AVX2 where `path` is avx2 and the CPU has it.
void addRequantFast(KernelPath path, const AddRequant& r, const Act* a, const Act* b, int64_t n,
                    Act* out);

}  // namespace kiln::rt
