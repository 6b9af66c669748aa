// Integer transpose (quantization unchanged). Input dimensions that stay adjacent and in order in
// the permutation are merged first (and size-1 dimensions dropped); what is left is then often an
// identity (one copy) or a batch of 2-D transposes (NCHW <-> NHWC: [N, C, HW] <-> [N, HW, C]),
// done in tiles so that both sides are read and written in short contiguous runs. Anything else
// runs transposeReference, the per-element loop. Outputs are element copies: the same bytes on
// every path and thread count.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "common/cpu_features.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/shapes.h"
#include "runtime/kernels/thread_pool.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt {

namespace {

using shapes::count;
using shapes::strides;

// The permutation on merged dimensions: shape[] the merged input shape, perm[] its permutation.
void mergeDims(const std::vector<int64_t>& inShape, const std::vector<int64_t>& perm,
               std::vector<int64_t>& shape, std::vector<int64_t>& merged) {
  // Output-order groups of input dimensions (size-1 ones skipped) that follow each other.
  // Dimensions are numbered among those of size > 1 (a size-1 one does not change the layout).
  std::vector<int64_t> num(inShape.size(), -1);
  int64_t next = 0;
  for (size_t d = 0; d < inShape.size(); ++d)
    if (inShape[d] != 1) num[d] = next++;
  std::vector<std::pair<int64_t, int64_t>> groups;  // (first input dimension, size)
  int64_t prev = -2;
  for (int64_t d : perm) {
    const int64_t k = num[size_t(d)];
    if (k < 0) continue;
    if (!groups.empty() && k == prev + 1)
      groups.back().second *= inShape[size_t(d)];
    else
      groups.push_back({k, inShape[size_t(d)]});
    prev = k;
  }
  // Input order of the groups: by first dimension.
  std::vector<int64_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return groups[size_t(a)].first < groups[size_t(b)].first;
  });
  shape.resize(groups.size());
  merged.resize(groups.size());
  for (size_t k = 0; k < order.size(); ++k) {
    shape[k] = groups[size_t(order[k])].second;
    merged[size_t(order[k])] = int64_t(k);
  }
}

// out[c][r] = in[r][c] for r < rows, c < C: the columns of a narrow matrix (an interleaved
// image's channels) split apart, C known to the compiler so that the loop unrolls.
template <int C>
void splitColumns(int64_t rows, const Act* in, Act* out) {
  parallelRanges(rows, 4096, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int c = 0; c < C; ++c) out[c * rows + r] = in[r * C + c];
  });
}

#if defined(__x86_64__) && defined(__GNUC__)
// The 8 x 8 block at x (row stride xs) transposed into y (row stride ys): three rounds of 16-,
// 32- and 64-bit interleaves.
__attribute__((target("avx2"))) inline void block8(const Act* x, int64_t xs, Act* y, int64_t ys) {
  __m128i r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i * xs));
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      r[4 * i + 2 * j] = _mm_unpacklo_epi32(t[4 * i + j], t[4 * i + j + 2]);
      r[4 * i + 2 * j + 1] = _mm_unpackhi_epi32(t[4 * i + j], t[4 * i + j + 2]);
    }
  for (int j = 0; j < 4; ++j) {
    t[2 * j] = _mm_unpacklo_epi64(r[j], r[j + 4]);
    t[2 * j + 1] = _mm_unpackhi_epi64(r[j], r[j + 4]);
  }
  for (int i = 0; i < 8; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i * ys), t[i]);
}

// transpose2d's tile [r0, r1) x [c0, c1) of one matrix: 8 x 8 blocks, the edges element by
// element.
__attribute__((target("avx2"))) void tileAvx2(const Act* x, Act* y, int64_t rows, int64_t cols,
                                              int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  int64_t rb = r0;
  for (; rb + 8 <= r1; rb += 8) {
    int64_t cb = c0;
    for (; cb + 8 <= c1; cb += 8) block8(x + rb * cols + cb, cols, y + cb * rows + rb, rows);
    for (int64_t c = cb; c < c1; ++c)
      for (int64_t r = rb; r < rb + 8; ++r) y[c * rows + r] = x[r * cols + c];
  }
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t r = rb; r < r1; ++r) y[c * rows + r] = x[r * cols + c];
}
#endif

// out[b][c][r] = in[b][r][c] for b < batch, r < rows, c < cols, in tiles of kTile x kTile;
// ranges of (b, column tile) pairs on the session's threads.
void transpose2d(int64_t batch, int64_t rows, int64_t cols, const Act* in, Act* out,
                 KernelPath path) {
  if (batch == 1 && cols == 3) return splitColumns<3>(rows, in, out);
  if (batch == 1 && cols == 4) return splitColumns<4>(rows, in, out);
  if (batch == 1 && cols == 2) return splitColumns<2>(rows, in, out);
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2 && hostHasAvx2() && rows >= 8 && cols >= 8) {
    constexpr int64_t kBig = 64;
    const int64_t colTiles = (cols + kBig - 1) / kBig;
    parallelRanges(batch * colTiles, std::max<int64_t>(1, 16384 / (rows * kBig)),
                   [&](int64_t t0, int64_t t1) {
                     for (int64_t t = t0; t < t1; ++t) {
                       const int64_t b = t / colTiles, c0 = t % colTiles * kBig;
                       const int64_t c1 = std::min(cols, c0 + kBig);
                       for (int64_t r0 = 0; r0 < rows; r0 += kBig)
                         tileAvx2(in + b * rows * cols, out + b * rows * cols, rows, cols, r0,
                                  std::min(rows, r0 + kBig), c0, c1);
                     }
                   });
    return;
  }
#endif
  constexpr int64_t kTile = 16;
  const int64_t colTiles = (cols + kTile - 1) / kTile;
  parallelRanges(batch * colTiles, std::max<int64_t>(1, 16384 / (rows * kTile)),
                 [&](int64_t t0, int64_t t1) {
                   for (int64_t t = t0; t < t1; ++t) {
                     const int64_t b = t / colTiles, c0 = t % colTiles * kTile;
                     const int64_t c1 = std::min(cols, c0 + kTile);
                     const Act* x = in + b * rows * cols;
                     Act* y = out + b * rows * cols;
                     for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
                       const int64_t r1 = std::min(rows, r0 + kTile);
                       for (int64_t c = c0; c < c1; ++c)
                         for (int64_t r = r0; r < r1; ++r) y[c * rows + r] = x[r * cols + c];
                     }
                   }
                 });
}

}  // namespace

void transpose(const std::vector<int64_t>& inShape, const std::vector<int64_t>& perm, const Act* in,
               Act* out, KernelPath path) {
  std::vector<int64_t> shape, merged;
  mergeDims(inShape, perm, shape, merged);
  const size_t m = shape.size();
  const int64_t total = count(inShape);
  bool batched = m >= 2;  // merged == [0, .., m - 3, m - 1, m - 2]
  for (size_t k = 0; k + 2 < m; ++k) batched = batched && merged[k] == int64_t(k);
  batched = batched && merged[m - 2] == int64_t(m - 1) && merged[m - 1] == int64_t(m - 2);
  if (m <= 1) {
    // Only one dimension of size > 1 (or none): the order of the elements does not change.
    if (total > 0) std::memcpy(out, in, size_t(total) * sizeof(Act));
  } else if (batched) {
    transpose2d(total / (shape[m - 2] * shape[m - 1]), shape[m - 2], shape[m - 1], in, out, path);
  } else {
    transposeReference(inShape, perm, in, out);
  }
}

void transposeReference(const std::vector<int64_t>& inShape, const std::vector<int64_t>& perm,
                        const Act* in, Act* out) {
  const size_t r = perm.size();
  const auto is = strides(inShape);
  std::vector<int64_t> outShape(r), src(r);
  for (size_t i = 0; i < r; ++i) outShape[i] = inShape[perm[i]], src[i] = is[perm[i]];
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  const int64_t total = count(inShape);
  for (int64_t k = 0; k < total; ++k) {
    out[k] = in[off];
    for (int d = int(r) - 1; d >= 0; --d) {
      off += src[d];
      if (++idx[d] < outShape[d]) break;
      off -= src[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace kiln::rt
