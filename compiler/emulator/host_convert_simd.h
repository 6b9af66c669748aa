// The emulation's host conversions between float buffers and int32 device values: the exact
// operations of runtime/engine/host_convert.h (quantizeFloat, dequantizeToFloat), eight values at
// a time with AVX2 where the CPU has it (x86-64, chosen at run time), else those loops. The
// optimizer converts every layer output of every noise-report sample, so these loops matter.
#pragma once

#include <cstdint>

#include "runtime/engine/program.h"

namespace kiln {

/// q[i] = rt::quantizeFloat's value of x[i], for i < n: the same bytes on every path.
void quantizeToInt(const float* x, int64_t n, const rt::StreamDesc& s, int32_t* q);

/// x[i] = rt::dequantizeToFloat's value of q[i], for i < n: the same bytes on every path.
void dequantizeFromInt(const int32_t* q, int64_t n, const rt::StreamDesc& s, float* x);

}  // namespace kiln
