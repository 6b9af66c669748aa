// Compile-time quantization arithmetic: turning float ranges and ratios into the integers the
// kernels use. All float math of quantization lives on this side (the optimizer); the runtime
// only ever sees the integers. See docs/arithmetic.md.
#pragma once

#include <cstdint>

#include "compiler/ir/types.h"
#include "runtime/kernels/requantize.h"

namespace kiln::quant {

/// m / 2^shift nearest to `real` with m in [2^30, 2^31); 0 maps to {0, 0}. Throws Error for
/// negative, non-finite or >= 2^31 values (no layer needs those).
rt::Multiplier quantizeMultiplier(double real);

/// Affine unsigned quantization of [min, max] (widened to contain 0, so that 0 is exact) on
/// `bits` bits: scale = (max - min) / (2^bits - 1), zeroPoint = round(-min / scale).
QuantInfo quantFromRange(double min, double max, int bits);

/// q = clamp(round(x / scale) + zeroPoint) (round half away from zero; compile-time only).
int64_t quantizeValue(double x, const QuantInfo& q);
/// (q - zeroPoint) * scale.
double dequantizeValue(int64_t v, const QuantInfo& q);

/// Largest magnitude of a signed symmetric `bits`-bit weight: 2^(bits-1) - 1.
int64_t weightQmax(int bits);

}  // namespace kiln::quant
