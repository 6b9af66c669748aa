// The runtime's host conversions into and out of the arena: rt::quantizeFloat and
// rt::dequantizeToFloat (host_convert.h), the same values bit for bit, eight at a time with AVX2
// on the avx2 kernel path, and split into ranges over the current thread pool (the elements are
// independent, so any split gives the same bytes).
#pragma once

#include <cstdint>

#include "runtime/engine/program.h"
#include "runtime/kernels/kernel_path.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt {

/// q[i] = quantizeFloat's value of x[i], i < n.
void quantizeToArena(KernelPath path, const float* x, int64_t n, const StreamDesc& s, Act* q);

/// x[i] = dequantizeToFloat's value of q[i], i < n.
void dequantizeFromArena(KernelPath path, const Act* q, int64_t n, const StreamDesc& s, float* x);

}  // namespace kiln::rt
