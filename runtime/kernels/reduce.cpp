// Integer reductions: sum and mean accumulate (x - inZp) in int64 and rescale once through the
// output stage (mean: the element count is folded into the multiplier, one rounding); max selects
// the largest quantized value and keeps the input's quantization. reduce() splits the outputs
// over the current thread pool, each output summing its elements in input order; the sums are
// exact integers, so it gives reduceReference's bytes (one pass over the input) for any split.
#include <algorithm>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

void reduceReference(const ReduceParams& p, const Act* in, Act* out) {
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

void reduce(const ReduceParams& p, const Act* in, Act* out) {
  const size_t r = p.inShape.size();
  std::vector<int64_t> stride(r, 1);
  for (int d = int(r) - 2; d >= 0; --d) stride[d] = stride[d + 1] * p.inShape[d + 1];
  // The kept and the reduced dimensions, each with its input stride, in order.
  std::vector<int64_t> keptExt, keptStride, redExt, redStride;
  int64_t outCount = 1, redCount = 1;
  for (size_t d = 0; d < r; ++d) {
    (p.reduced[d] ? redExt : keptExt).push_back(p.inShape[d]);
    (p.reduced[d] ? redStride : keptStride).push_back(stride[d]);
    (p.reduced[d] ? redCount : outCount) *= p.inShape[d];
  }
  const int nk = int(keptExt.size()), nr = int(redExt.size());
  // Parts of at least ~8 k input elements.
  parallelRanges(outCount, std::max<int64_t>(1, 8192 / std::max<int64_t>(redCount, 1)),
                 [&](int64_t o0, int64_t o1) {
                   std::vector<int64_t> idx(static_cast<size_t>(nr));
                   for (int64_t o = o0; o < o1; ++o) {
                     int64_t rem = o, off = 0;  // the output's first input element
                     for (int j = nk - 1; j >= 0; --j) {
                       off += rem % keptExt[size_t(j)] * keptStride[size_t(j)];
                       rem /= keptExt[size_t(j)];
                     }
                     std::fill(idx.begin(), idx.end(), 0);
                     int64_t acc = p.isMax ? INT64_MIN : 0;
                     for (int64_t c = 0; c < redCount; ++c) {
                       const int64_t v = in[off];
                       acc = p.isMax ? std::max(acc, v) : acc + (v - p.inZp);
                       for (int j = nr - 1; j >= 0; --j) {  // the next reduced element
                         off += redStride[size_t(j)];
                         if (++idx[size_t(j)] < redExt[size_t(j)]) break;
                         off -= redStride[size_t(j)] * redExt[size_t(j)];
                         idx[size_t(j)] = 0;
                       }
                     }
                     out[o] = p.isMax ? int32_t(acc) : p.out.apply(acc, 0);
                   }
                 });
}

}  // namespace kiln::rt
