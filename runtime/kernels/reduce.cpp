// Integer reductions: sum and mean accumulate (x - inZp) in int64 and rescale once through the
// output stage (mean: the element count is folded into the multiplier, one rounding); max selects
// the largest quantized value and keeps the input's quantization.
#include <algorithm>

#include "runtime/kernels/kernels.h"

namespace kiln::rt {

void reduce(const ReduceParams& p, const Act* in, Act* out) {
  const size_t r = p.inShape.size();
  // Strides of the output (reduced dimensions have extent 1 and contribute nothing).
  std::vector<int64_t> kept(r), ks(r, 1);
  int64_t outCount = 1, total = 1;
  for (size_t d = 0; d < r; ++d) {
    kept[d] = p.reduced[d] ? 1 : p.inShape[d];
    outCount *= kept[d];
    total *= p.inShape[d];
  }
  for (int d = int(r) - 2; d >= 0; --d) ks[d] = ks[d + 1] * kept[d + 1];
  std::vector<int64_t> acc(size_t(outCount), p.isMax ? INT64_MIN : 0);
  std::vector<int64_t> idx(r, 0);
  int64_t o = 0;
  for (int64_t k = 0; k < total; ++k) {
    const int64_t v = in[k];
    acc[o] = p.isMax ? std::max(acc[o], v) : acc[o] + (v - p.inZp);
    for (int d = int(r) - 1; d >= 0; --d) {
      const int64_t step = p.reduced[d] ? 0 : ks[d];
      o += step;
      if (++idx[d] < p.inShape[d]) break;
      o -= step * p.inShape[d];
      idx[d] = 0;
    }
  }
  for (int64_t i = 0; i < outCount; ++i)
    out[i] = p.isMax ? int32_t(acc[i]) : p.out.apply(acc[i], 0);
}

}  // namespace kiln::rt
