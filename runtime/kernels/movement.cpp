// Integer data movement: slice, pad, depth_to_space, space_to_depth (quantization
// unchanged) and concat (each input rescaled to the output's quantization through its own output
// stage). resize is in resize.cpp, transpose in transpose.cpp.
#include <algorithm>
#include <cstring>

#include "runtime/kernels/eltwise_fused.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/shapes.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

using shapes::count;
using shapes::strides;

void slice(const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
           const std::vector<int64_t>& starts, const std::vector<int64_t>& steps, const Act* in,
           Act* out) {
  const size_t r = inShape.size();
  const auto is = strides(inShape);
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (size_t d = 0; d < r; ++d) off += starts[d] * is[d];
  const int64_t total = count(outShape);
  for (int64_t k = 0; k < total; ++k) {
    out[k] = in[off];
    for (int d = int(r) - 1; d >= 0; --d) {
      off += steps[d] * is[d];
      if (++idx[d] < outShape[d]) break;
      off -= steps[d] * is[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

void pad(const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
         const std::vector<int64_t>& pads, PadMode mode, int32_t value, const Act* in, Act* out) {
  const size_t r = inShape.size();
  const int64_t total = count(outShape);
  if (r == 0 || total == 0) {
    if (total) out[0] = in[0];
    return;
  }
  const auto is = strides(inShape);
  // Per dimension, the source index of each output index (-1: outside, constant mode).
  std::vector<std::vector<int64_t>> src(r);
  for (size_t d = 0; d < r; ++d) {
    const int64_t n = inShape[d];
    src[d].resize(size_t(outShape[d]));
    for (int64_t o = 0; o < outShape[d]; ++o) {
      int64_t i = o - pads[d];
      if (i < 0 || i >= n) {
        if (mode == PadMode::Constant) {
          i = -1;
        } else if (mode == PadMode::Edge) {
          i = std::clamp<int64_t>(i, 0, n - 1);
        } else {
          const int64_t period = 2 * (n - 1);
          i = period == 0 ? 0 : ((i % period) + period) % period;
          if (i >= n) i = period - i;
        }
      }
      src[d][size_t(o)] = i;
    }
  }
  // Row by row along the last dimension. A row's columns are usually a fill, one contiguous run
  // of the source row and a fill (constant mode, or any mode whose pads on the last dimension
  // are 0): [lead, lead + run) reads x[start...]; the other columns take the gather below.
  const int64_t width = outShape[r - 1];
  const std::vector<int64_t>& last = src[r - 1];
  int64_t lead = 0;
  while (lead < width && last[size_t(lead)] < 0) ++lead;
  int64_t run = 0;
  while (lead + run < width && last[size_t(lead + run)] == last[size_t(lead)] + run) ++run;
  bool simple = true;
  for (int64_t j = lead + run; j < width; ++j) simple = simple && last[size_t(j)] < 0;
  const int64_t start = run > 0 ? last[size_t(lead)] : 0;
  // Rows are independent: ranges of them on the session's threads, each starting from its first
  // row's index.
  const int64_t rows = total / width;
  parallelRanges(rows, std::max<int64_t>(1, 16384 / width), [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(r - 1, 0);
    for (int64_t d = int64_t(r) - 2, rest = r0; d >= 0; --d) {
      idx[size_t(d)] = rest % outShape[size_t(d)];
      rest /= outShape[size_t(d)];
    }
    // The source offset of the dimensions before the row's own (r - 2), recomputed only when
    // that dimension wraps: per row one table lookup.
    const size_t inner = r - 2;  // r >= 2 here (r == 1: one row, inner wraps at once)
    int64_t base = 0;
    bool baseOutside = false;
    const auto rebase = [&] {
      base = 0, baseOutside = false;
      for (size_t d = 0; d < inner; ++d) {
        const int64_t i = src[d][size_t(idx[d])];
        baseOutside = baseOutside || i < 0;
        base += i * is[d];
      }
    };
    if (r >= 2) rebase();
    for (int64_t rw = r0; rw < r1; ++rw) {
      int64_t row = base;
      bool outside = baseOutside;
      if (r >= 2) {
        const int64_t i = src[inner][size_t(idx[inner])];
        outside = outside || i < 0;
        row += i * is[inner];
      }
      Act* o = out + rw * width;
      if (outside) {
        std::fill(o, o + width, Act(value));
      } else if (simple) {
        for (int64_t j = 0; j < lead; ++j) o[j] = Act(value);
        std::memcpy(o + lead, in + row + start, size_t(run) * sizeof(Act));
        for (int64_t j = lead + run; j < width; ++j) o[j] = Act(value);
      } else {
        const Act* x = in + row;
        for (int64_t j = 0; j < width; ++j) o[j] = last[size_t(j)] < 0 ? value : x[last[size_t(j)]];
      }
      if (r < 2) continue;
      if (++idx[inner] < outShape[inner]) continue;
      idx[inner] = 0;
      for (int d = int(inner) - 1; d >= 0; --d) {
        if (++idx[size_t(d)] < outShape[size_t(d)]) break;
        idx[size_t(d)] = 0;
      }
      rebase();
    }
  });
}

void padReference(const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
                  const std::vector<int64_t>& pads, PadMode mode, int32_t value, const Act* in,
                  Act* out) {
  const size_t r = inShape.size();
  const auto is = strides(inShape);
  std::vector<int64_t> idx(r, 0);
  const int64_t total = count(outShape);
  for (int64_t k = 0; k < total; ++k) {
    int64_t src = 0;
    bool outside = false;
    for (size_t d = 0; d < r && !outside; ++d) {
      int64_t i = idx[d] - pads[d];
      const int64_t n = inShape[d];
      if (i < 0 || i >= n) {
        if (mode == PadMode::Constant) {
          outside = true;
        } else if (mode == PadMode::Edge) {
          i = std::clamp<int64_t>(i, 0, n - 1);
        } else {
          const int64_t period = 2 * (n - 1);
          i = period == 0 ? 0 : ((i % period) + period) % period;
          if (i >= n) i = period - i;
        }
      }
      src += i * is[d];
    }
    out[k] = outside ? value : in[src];
    for (int d = int(r) - 1; d >= 0; --d) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
}

void depthToSpace(int64_t n, int64_t c, int64_t h, int64_t w, int64_t b, bool crd, const Act* in,
                  Act* out) {
  const int64_t oc = c / (b * b), oh = h * b, ow = w * b;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < oc; ++ch)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          const int64_t by = y % b, bx = x % b;
          const int64_t ic = crd ? ch * b * b + by * b + bx : (by * b + bx) * oc + ch;
          out[((i * oc + ch) * oh + y) * ow + x] = in[((i * c + ic) * h + y / b) * w + x / b];
        }
}

void spaceToDepth(int64_t n, int64_t c, int64_t h, int64_t w, int64_t b, const Act* in, Act* out) {
  const int64_t oh = h / b, ow = w / b;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const int64_t oc = ((y % b) * b + x % b) * c + ch;
          out[((i * c * b * b + oc) * oh + y / b) * ow + x / b] =
              in[((i * c + ch) * h + y) * w + x];
        }
}

void concatAxis(const std::vector<std::vector<int64_t>>& inShapes, int64_t axis,
                const std::vector<const Act*>& ins, const std::vector<int32_t>& inZps,
                const std::vector<OutputStage>& stages, Act* out, const std::vector<bool>& copy,
                KernelPath path) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= inShapes[0][d];
  for (size_t d = axis + 1; d < inShapes[0].size(); ++d) inner *= inShapes[0][d];
  // An output row (one outer index) is input 0's chunk, then input 1's, ...: first[i] is where
  // input i's starts.
  std::vector<int64_t> first(ins.size() + 1, 0);
  for (size_t i = 0; i < ins.size(); ++i) first[i + 1] = first[i] + inShapes[i][axis] * inner;
  const int64_t rowLen = first.back();
  // Output elements are independent: ranges of them on the session's threads, each walked as
  // pieces of one input's chunk.
  parallelRanges(outer * rowLen, 16384, [&](int64_t k0, int64_t k1) {
    constexpr int64_t kRun = 4096;
    int32_t acc[kRun];
    for (int64_t k = k0; k < k1;) {
      const int64_t o = k / rowLen, at = k % rowLen;
      const size_t i = size_t(std::upper_bound(first.begin(), first.end(), at) - first.begin() - 1);
      const int64_t len = std::min({kRun, first[i + 1] - at, k1 - k});
      const Act* src = ins[i] + o * (first[i + 1] - first[i]) + (at - first[i]);
      if (i < copy.size() && copy[i]) {
        // An identity stage (channel padding with the output's own quantization, BlazeFace).
        std::memcpy(out + k, src, size_t(len) * sizeof(Act));
        k += len;
        continue;
      }
      AffineRequant affine;
      if (affineRequantSetup(inZps[i], 16, 1, 0, stages[i], 0, affine)) {
        // acc = x - zp and the clamp stage in one pass.
        affineRequantFast(path, affine, src, len, out + k);
        k += len;
        continue;
      }
      // x - zp fits int32 (activations and zero points lie in [0, 2^16)): the run form.
      for (int64_t j = 0; j < len; ++j) acc[j] = src[j] - inZps[i];
      applyStage(stages[i], acc, len, 0, out + k);
      k += len;
    }
  });
}

}  // namespace kiln::rt

namespace kiln::rt {

bool stageIsIdentity(const OutputStage& s, int32_t inZp, int32_t bits) {
  // requantize(acc, m, shift) = acc exactly when m = 2^shift (round half up of an integer).
  const Multiplier& m = s.mult[0];
  const bool one = m.shift >= 0 && m.shift <= 30 && int64_t(m.m) == (int64_t(1) << m.shift);
  return !s.lut && !s.multNeg && !s.perChannel && one && s.outZp == inZp && s.qmin <= 0 &&
         int64_t(s.qmax) >= (int64_t(1) << bits) - 1;
}

}  // namespace kiln::rt
