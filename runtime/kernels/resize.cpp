// Integer resize. Images (only the last two dimensions interpolate) take one of two row kernels:
//  - nearest (no dimension interpolates): out = stage(x - inZp) of one source element, so the
//    stage runs once per element of a source row, the output row gathers its columns from it,
//    and an output row reading the same source row as the row before it is a copy of that row
//    (integer upscaling: most rows are copies);
//  - linear: the sum acc = wy0 * (wx0 a + wx1 b) + wy1 * (wx0 c + wx1 d) is formed from the two
//    horizontal rows h(y) = wx0 x[y, x0] + wx1 x[y, x1] (the same integers: the sum is written
//    that way), each computed once and kept while consecutive output rows read it.
// Every other layout runs resizeReference, the general per-element loop the kernels match bit
// for bit. Output rows are independent: ranges of them on the session's threads.
#include <algorithm>
#include <cstring>

#include "runtime/kernels/conv_loops.h"
#include "runtime/kernels/eltwise_fused.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/shapes.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

namespace {

using shapes::count;
using shapes::strides;

// Rows per range when output rows are split over threads: about 16 k elements.
int64_t rowGrain(int64_t width) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(width, 1));
}

// The input offset of the plane that output row `row` (over all dimensions before the last two)
// reads, plus its source row's offset along dimension dh through taps `rows`.
int64_t sourceRow(const ResizeParams& p, const std::vector<int64_t>& is,
                  const std::vector<int64_t>& rows, int64_t row) {
  const size_t dh = p.inShape.size() - 2;
  const int64_t oh = p.outShape[dh];
  int64_t base = rows[size_t(row % oh)] * is[dh];
  for (int64_t d = int64_t(dh) - 1, rest = row / oh; d >= 0; --d) {
    base += p.i0[size_t(d)][size_t(rest % p.outShape[size_t(d)])] * is[size_t(d)];
    rest /= p.outShape[size_t(d)];
  }
  return base;
}

void resizeNearest(const ResizeParams& p, const std::vector<int64_t>& is, int64_t rows,
                   const Act* in, Act* out) {
  const size_t r = p.inShape.size(), dh = r - 2, dw = r - 1;
  const int64_t iw = p.inShape[dw], ow = p.outShape[dw];
  const std::vector<int64_t>& xs = p.i0[dw];
  // Stage the whole source row when the output row reads at least as many elements.
  const bool stageRow = ow >= iw;
  // x - zp and a clamp stage in one pass (int32 accumulators: |x - zp| < 2^16).
  AffineRequant affine;
  const bool fused = affineRequantSetup(p.inZp, 16, 1, 0, p.out, 0, affine);
  // An integer upscale factor f (column j reads source column j / f): the gather as repeats.
  int64_t factor = ow % iw == 0 ? ow / iw : 0;
  for (int64_t j = 0; factor > 0 && j < ow; ++j)
    if (xs[size_t(j)] != j / factor) factor = 0;
  parallelRanges(rows, rowGrain(ow), [&](int64_t r0, int64_t r1) {
    std::vector<int32_t> acc(size_t(std::max(iw, ow)));
    std::vector<Act> staged(static_cast<size_t>(iw));
    int64_t prev = -1;
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t src = sourceRow(p, is, p.i0[dh], row);
      Act* o = out + row * ow;
      if (src == prev) {
        std::memcpy(o, o - ow, size_t(ow) * sizeof(Act));
        continue;
      }
      prev = src;
      const Act* x = in + src;
      if (stageRow) {
        if (fused) {
          affineRequantFast(p.path, affine, x, iw, staged.data());
        } else {
          // x - zp fits int32 (activations and zero points lie in [0, 2^16)).
          for (int64_t j = 0; j < iw; ++j) acc[size_t(j)] = int32_t(x[j]) - p.inZp;
          applyStage(p.out, acc.data(), iw, 0, staged.data());
        }
        if (factor == 2) {
          for (int64_t j = 0; j < iw; ++j) o[2 * j] = o[2 * j + 1] = staged[size_t(j)];
        } else if (factor > 0) {
          for (int64_t j = 0; j < iw; ++j)
            for (int64_t k = 0; k < factor; ++k) o[j * factor + k] = staged[size_t(j)];
        } else {
          for (int64_t j = 0; j < ow; ++j) o[j] = staged[size_t(xs[size_t(j)])];
        }
      } else {
        for (int64_t j = 0; j < ow; ++j) acc[size_t(j)] = int32_t(x[xs[size_t(j)]]) - p.inZp;
        applyStage(p.out, acc.data(), ow, 0, o);
      }
    }
  });
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_RESIZE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KILN_RESIZE_CLONES
#endif

// acc[j] = wy0 * h0[j] + wy1 * h1[j]: the vertical step of a linear output row (int32 when the
// caller proved every sum fits: then an AVX2 clone, eight values per step).
template <typename Acc>
void blendRows(const Acc* h0, const Acc* h1, Acc wy0, Acc wy1, int64_t n, Acc* acc) {
  for (int64_t j = 0; j < n; ++j) acc[j] = wy0 * h0[j] + wy1 * h1[j];
}

KILN_RESIZE_CLONES
void blendRows32(const int32_t* h0, const int32_t* h1, int32_t wy0, int32_t wy1, int64_t n,
                 int32_t* acc) {
  for (int64_t j = 0; j < n; ++j) acc[j] = wy0 * h0[j] + wy1 * h1[j];
}

template <>
void blendRows<int32_t>(const int32_t* h0, const int32_t* h1, int32_t wy0, int32_t wy1, int64_t n,
                        int32_t* acc) {
  blendRows32(h0, h1, wy0, wy1, n, acc);
}

// Output rows [r0, r1) of a linear resize with Acc accumulators (int64, or int32 when the caller
// proved |acc| <= 2^(weightBits * interpolated) max |x - zp| < 2^31: then every partial sum of
// the same integers fits too).
template <typename Acc>
void linearRows(const ResizeParams& p, const std::vector<int64_t>& is, int64_t r0, int64_t r1,
                const Act* in, Act* out) {
  const size_t r = p.inShape.size(), dh = r - 2, dw = r - 1;
  const int64_t one = int64_t(1) << p.weightBits;
  const int64_t oh = p.outShape[dh], ow = p.outShape[dw];
  const size_t n = static_cast<size_t>(ow);
  // Per column the two source columns and their weights; a dimension that does not interpolate
  // reads its one source with weight 1 (the second tap has weight 0), as resizeReference's sum.
  std::vector<int64_t> x0(n), x1(n);
  std::vector<Acc> wx0(n), wx1(n);
  const bool linX = p.interpolated[dw], linY = p.interpolated[dh];
  for (size_t j = 0; j < n; ++j) {
    x0[j] = p.i0[dw][j];
    x1[j] = linX ? p.i1[dw][j] : x0[j];
    wx1[j] = Acc(linX ? p.w1[dw][j] : 0);
    wx0[j] = Acc(linX ? one - wx1[j] : 1);
  }
  const std::vector<int64_t>& rows1 = linY ? p.i1[dh] : p.i0[dh];
  // Two horizontal rows, each keyed by its source row's offset.
  std::vector<Acc> h[2] = {std::vector<Acc>(n), std::vector<Acc>(n)}, acc(n);
  int64_t key[2] = {-1, -1};
  const Acc zp = Acc(p.inZp);
  auto horizontal = [&](int64_t src, int avoid) {
    for (int s = 0; s < 2; ++s)
      if (key[s] == src) return s;
    const int s = avoid == 0 ? 1 : 0;
    const Act* x = in + src;
    Acc* hs = h[s].data();
    for (size_t j = 0; j < n; ++j)
      hs[j] = wx0[j] * (Acc(x[x0[j]]) - zp) + wx1[j] * (Acc(x[x1[j]]) - zp);
    key[s] = src;
    return s;
  };
  for (int64_t row = r0; row < r1; ++row) {
    const int64_t oy = row % oh;
    const int s0 = horizontal(sourceRow(p, is, p.i0[dh], row), -1);
    const int s1 = horizontal(sourceRow(p, is, rows1, row), s0);
    const int64_t wy1 = linY ? p.w1[dh][size_t(oy)] : 0, wy0 = linY ? one - wy1 : 1;
    blendRows<Acc>(h[s0].data(), h[s1].data(), Acc(wy0), Acc(wy1), ow, acc.data());
    applyStage(p.out, acc.data(), ow, 0, out + row * ow);
  }
}

void resizeLinear(const ResizeParams& p, const std::vector<int64_t>& is, int64_t rows,
                  const Act* in, Act* out) {
  const size_t r = p.inShape.size();
  const int64_t interpolated = int64_t(p.interpolated[r - 2]) + int64_t(p.interpolated[r - 1]);
  const int64_t maxX = loops::maxAbsDiff(in, count(p.inShape), p.inZp);
  const bool fits32 =
      p.weightBits * interpolated < 31 && (maxX << (p.weightBits * interpolated)) <= INT32_MAX;
  parallelRanges(rows, rowGrain(p.outShape[r - 1]), [&](int64_t r0, int64_t r1) {
    if (fits32)
      linearRows<int32_t>(p, is, r0, r1, in, out);
    else
      linearRows<int64_t>(p, is, r0, r1, in, out);
  });
}

}  // namespace

void resize(const ResizeParams& p, const Act* in, Act* out) {
  const size_t r = p.inShape.size();
  bool lastTwo = r >= 2;
  for (size_t d = 0; d + 2 < r; ++d) lastTwo = lastTwo && !p.interpolated[d];
  if (!lastTwo || count(p.outShape) == 0) return resizeReference(p, in, out);
  const int64_t rows = count(p.outShape) / p.outShape[r - 1];
  if (p.interpolated[r - 2] || p.interpolated[r - 1])
    resizeLinear(p, strides(p.inShape), rows, in, out);
  else
    resizeNearest(p, strides(p.inShape), rows, in, out);
}

void resizeReference(const ResizeParams& p, const Act* in, Act* out) {
  const size_t r = p.inShape.size();
  const auto is = strides(p.inShape);
  std::vector<size_t> lin;
  for (size_t d = 0; d < r; ++d)
    if (p.interpolated[d]) lin.push_back(d);
  const int64_t one = int64_t(1) << p.weightBits;
  std::vector<int64_t> idx(r, 0);
  const int64_t total = count(p.outShape);
  for (int64_t k = 0; k < total; ++k) {
    int64_t base = 0;
    for (size_t d = 0; d < r; ++d)
      if (!p.interpolated[d]) base += p.i0[d][idx[d]] * is[d];
    int64_t acc = 0;
    for (size_t corner = 0; corner < (size_t(1) << lin.size()); ++corner) {
      int64_t off = base, w = 1;
      for (size_t j = 0; j < lin.size(); ++j) {
        const size_t d = lin[j];
        const bool hi = (corner >> j) & 1;
        const int64_t wj = p.w1[d][idx[d]];
        w *= hi ? wj : one - wj;
        off += (hi ? p.i1[d][idx[d]] : p.i0[d][idx[d]]) * is[d];
      }
      acc += w * (int64_t(in[off]) - p.inZp);
    }
    out[k] = p.out.apply(acc, 0);
    for (int d = int(r) - 1; d >= 0; --d) {
      if (++idx[d] < p.outShape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace kiln::rt
