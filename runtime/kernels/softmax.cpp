// Integer softmax. Per row: d = max - x in input quantization units (the zero point cancels),
// e = expTable[d] = round(exp(-d * s_in) * 2^expBits) (prepared by the compiler; 0 past its end),
// sum in int64, and the output probability divRound(e * outMax, sum) on the fixed output
// quantization (scale 1 / outMax, zero point 0): one rounding from the table values.
// Rows are independent: they are split over the current thread pool, each computed as on one
// thread.
#include <algorithm>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

namespace {

void softmaxRow(const SoftmaxParams& p, const Act* src, Act* dst) {
  int32_t mx = src[0];
  for (int64_t k = 1; k < p.len; ++k) mx = std::max<int32_t>(mx, src[k * p.inner]);
  auto e = [&](int64_t k) -> int64_t {
    const int64_t d = int64_t(mx) - src[k * p.inner];
    return d < p.expTableSize ? p.expTable[d] : 0;
  };
  int64_t sum = 0;  // >= expTable[0] > 0: the maximum contributes
  for (int64_t k = 0; k < p.len; ++k) sum += e(k);
  for (int64_t k = 0; k < p.len; ++k) dst[k * p.inner] = int32_t(divRound(e(k) * p.outMax, sum));
}

}  // namespace

void softmax(const SoftmaxParams& p, const Act* in, Act* out) {
  // Row r = (o, i): elements o * len * inner + i + k * inner. Parts of at least ~8 k elements.
  parallelRanges(p.outer * p.inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(p.len, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const int64_t o = r / p.inner, i = r % p.inner;
                     softmaxRow(p, in + o * p.len * p.inner + i, out + o * p.len * p.inner + i);
                   }
                 });
}

}  // namespace kiln::rt
