// Shared inner loops of the integer convolution kernels (conv.cpp, depthwise.cpp, deconv.cpp).
// Internal to runtime/kernels: not part of the kernels' interface.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "runtime/kernels/kernels.h"

namespace kiln::rt::loops {

/// a_j[q] += x_j * c[q] for q < n, four accumulators at once (int32: the caller proved no sum
/// leaves int32). AVX2 and baseline clones on x86-64, chosen at load time.
void axpy4(const int32_t* c, int64_t n, int32_t x0, int32_t x1, int32_t x2, int32_t x3, int32_t* a0,
           int32_t* a1, int32_t* a2, int32_t* a3);
/// a[q] += x * c[q] for q < n, in int32 or int64.
void axpy32(const int32_t* c, int64_t n, int32_t x, int32_t* a);
void axpy64(const int32_t* c, int64_t n, int64_t x, int64_t* a);
inline void axpy(const int32_t* c, int64_t n, int32_t x, int32_t* a) {
  axpy32(c, n, x, a);
}
inline void axpy(const int32_t* c, int64_t n, int64_t x, int64_t* a) {
  axpy64(c, n, x, a);
}
/// a[q] += x * (c[q] - zp) for q < n, on activations as stored (no copy minus the zero point).
void axpyAct32(const Act* c, int32_t zp, int64_t n, int32_t x, int32_t* a);
void axpyAct64(const Act* c, int32_t zp, int64_t n, int64_t x, int64_t* a);
inline void axpy(const Act* c, int32_t zp, int64_t n, int32_t x, int32_t* a) {
  axpyAct32(c, zp, n, x, a);
}
inline void axpy(const Act* c, int32_t zp, int64_t n, int64_t x, int64_t* a) {
  axpyAct64(c, zp, n, x, a);
}

/// The largest |x - zp| over n values (a bound for the accumulator check); AVX2 and baseline
/// clones on x86-64 (the baseline has no packed unsigned 16-bit min/max).
int64_t maxAbsDiff(const Act* x, int64_t n, int32_t zp);
/// maxAbsDiff with a long input (a conv's whole input, checked before its tiles run) cut into
/// ranges over the current pool's threads instead of read by the calling thread alone (inline
/// within a pool's part, e.g. a depthwise channel): the largest value is the same for any cut.
int64_t maxAbsDiffOnThreads(const Act* x, int64_t n, int32_t zp);
/// The largest |x - zp| of n input values of a conv, depthwise or deconv: for 8-bit inputs
/// (ConvParams::inBits) the range's bound max(zp, 255 - zp) without reading them, for 16-bit
/// ones maxAbsDiffOnThreads (the kernels take the same exact paths for any bound that passes
/// their checks).
int64_t inputMaxAbsDiff(const ConvParams& p, const Act* x, int64_t n);
/// The smallest and largest of n > 0 values (same clones).
void minMax(const Act* x, int64_t n, int32_t& lo, int32_t& hi);

// Output columns ox whose input column ox * sw + off lies inside [0, w): [ox0, ox1).
inline void validColumns(const ConvGeometry& g, int64_t off, int64_t& ox0, int64_t& ox1) {
  ox0 = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
  ox1 = g.w - off <= 0 ? 0 : std::min(g.ow, (g.w - off + g.sw - 1) / g.sw);
  ox0 = std::min(ox0, ox1);
}

/// Calls f with the weights as a typed pointer of their stored width (int8, int16 or int32).
template <typename F>
void withWeights(const WeightPtr& w, F&& f) {
  switch (w.bytes) {
    case 1:
      return f(static_cast<const int8_t*>(w.data));
    case 2:
      return f(static_cast<const int16_t*>(w.data));
    default:
      return f(static_cast<const int32_t*>(w.data));
  }
}

/// The runs of row r = (c, ky, kx) of one group's im2col matrix over the tile's columns
/// [t0, t0 + tl) (output positions (oy, ox)), in column order: copy(src, stride, col, n) for n
/// columns from col (relative to t0) reading src[0], src[stride], ... of the input plane, and
/// pad(col, n) for columns whose window reads padding (within an output row: left padding, the
/// copy, right padding). A pointwise conv is one copy. The panels of conv.cpp (int32) and
/// conv_panel.cpp (int16, SIMD runs) fill their rows through it.
template <typename Copy, typename Pad>
void forEachIm2colRun(const Act* planes, const ConvGeometry& g, int64_t r, int64_t t0, int64_t tl,
                      Copy copy, Pad pad) {
  const int64_t c = r / (g.kh * g.kw), ky = r / g.kw % g.kh, kx = r % g.kw;
  const Act* plane = planes + c * g.h * g.w;
  if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h &&
      g.ow == g.w)
    return copy(plane + t0, int64_t(1), int64_t(0), tl);  // column j reads position j
  const int64_t off = kx * g.dw - g.pl;
  int64_t ox0, ox1;
  validColumns(g, off, ox0, ox1);
  // One output row segment at a time (the first may start mid-row).
  int64_t oy = t0 / g.ow, segStart = t0 % g.ow;
  for (int64_t j = t0; j < t0 + tl; ++oy, segStart = 0) {
    const int64_t segEnd = std::min(g.ow, segStart + (t0 + tl - j));
    const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
    const int64_t base = j - segStart - t0;  // the column of (oy, 0)
    if (iy >= 0 && iy < g.h) {
      const int64_t lo = std::min(std::max(ox0, segStart), segEnd);
      const int64_t hi = std::max(std::min(ox1, segEnd), lo);
      if (lo > segStart) pad(base + segStart, lo - segStart);
      copy(plane + iy * g.w + off + lo * g.sw, g.sw, base + lo, hi - lo);
      if (segEnd > hi) pad(base + hi, segEnd - hi);
    } else {
      pad(base + segStart, segEnd - segStart);
    }
    j += segEnd - segStart;
  }
}

/// Depthwise convolution (groups == channels == outputs), depthwise.cpp.
void depthwise2d(const ConvParams& p, const Act* in, Act* out);

}  // namespace kiln::rt::loops
