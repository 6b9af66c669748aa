// Integer softmax. Per row: d = max - x in input quantization units (the zero point cancels),
// e = expTable[d] = round(exp(-d * s_in) * 2^expBits) (prepared by the compiler; 0 past its end),
// sum in int64, and the output probability divRound(e * outMax, sum) on the fixed output
// quantization (scale 1 / outMax, zero point 0): one rounding from the table values.
#include <algorithm>

#include "runtime/kernels/kernels.h"

namespace kiln::rt {

void softmax(const SoftmaxParams& p, const Act* in, Act* out) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t i = 0; i < p.inner; ++i) {
      const Act* src = in + o * p.len * p.inner + i;
      Act* dst = out + o * p.len * p.inner + i;
      int32_t mx = src[0];
      for (int64_t k = 1; k < p.len; ++k) mx = std::max<int32_t>(mx, src[k * p.inner]);
      auto e = [&](int64_t k) -> int64_t {
        const int64_t d = int64_t(mx) - src[k * p.inner];
        return d < p.expTableSize ? p.expTable[d] : 0;
      };
      int64_t sum = 0;  // >= expTable[0] > 0: the maximum contributes
      for (int64_t k = 0; k < p.len; ++k) sum += e(k);
      for (int64_t k = 0; k < p.len; ++k)
        dst[k * p.inner] = int32_t(divRound(e(k) * p.outMax, sum));
    }
}

}  // namespace kiln::rt
