// The smallest and largest value of a float buffer, NaN ignored, as the calibration statistics
// define them: the results of the scalar loop
//   a = v < a ? v : a;  b = v > b ? v : b;   (over the values in order, from lo and hi)
// bit for bit (a zero's sign included), eight values at a time with AVX2 where the CPU has it
// (x86-64, chosen at run time). Every layer output of every calibration sample is scanned.
#pragma once

#include <cstddef>

namespace kiln::quant {

/// lo = min(lo, values of p[0..n)), hi = max(hi, ...), NaN ignored, as the loop above.
void scanMinMax(const float* p, size_t n, float& lo, float& hi);

}  // namespace kiln::quant
