// The SIMD depthwise kernel (internal to runtime/kernels): per channel, the window's taps taken
// two at a time as int16 pairs, so one vpmaddwd (AVX2) or smull + addp (NEON) forms
// w[kx] * x[.., ox + kx] + w[kx + 1] * x[.., ox + kx + 1] for 8 (4) output columns exactly.
//
// For tap pair t (window columns 2t and 2t + 1) and input row iy, the "pair row" holds, per
// output column ox, the word (x(iy, ox*sw + 2t*dw - pl) - zp, x(iy, ox*sw + (2t+1)*dw - pl) - zp)
// as two int16 halves (0 where the window reads padding; the unused high half of an odd kw's last
// pair meets a 0 weight). Every pair row is a contiguous run of one array built once per input row
// (one word per column, split into sw phases), so building costs the same for any window; with
// sw = 2 and dw = 1 the words of phase 0 (the only one read) are the padded int16 row itself,
// read as int32, and nothing is built beyond it; with sw = 1 and dw = 1 the
// even/odd split (pairRowsEvenOdd) reads those same words for both column phases. An output row oy
// is bias + the sum over ky and t of madd(pair row (t, oy*sh + ky*dh - pt), weight pair (ky, t)),
// for every stride and dilation; rows of padding point at a row of zeros. The input rows live in a
// ring of (kh - 1) * dh + 1 rows built as the output rows reach them, and the output stage runs on
// bands of a few output rows, so a channel's working set stays in the first-level cache whatever
// the plane's size. The caller proves that every |x - zp| and |w| fits int16 and that sum |w| * max
// |x - zp| + |bias| < 2^31, so every pair product and every partial sum fits int32 in any order:
// each path gives the int32 the reference loop gives.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/kernel_path.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt::dw {

/// Output columns are computed in blocks of this many (pair rows are padded to a multiple).
constexpr int64_t kBlock = 8;
/// About this many accumulators per band of output rows (at least one row): the band's int32
/// accumulators stay in the first-level cache until the output stage reads them.
constexpr int64_t kBandValues = 2048;

/// Scratch of one thread for depthwisePairsChannel (reused between channels).
struct PairScratch {
  std::vector<int16_t> rowX16;   // one padded input row of x - zp
  std::vector<int32_t> q;        // one row's pair words before the phase split
  std::vector<int32_t> ring;     // the pair words of the last (kh - 1) * dh + 1 input rows
  std::vector<int64_t> ringRow;  // which input row each ring slot holds (-1: none)
  std::vector<int32_t> zero;     // one row of zeros (rows of padding)
  std::vector<int32_t> acc;      // a band of output rows + width slack
  std::vector<const int32_t*> rowPtr;
  std::vector<int64_t> tapOff;
  std::vector<int32_t> wPairs;
  std::vector<int32_t> wOdd;  // even/odd split: the weight pairs of the odd output columns
  // The geometry the ring, zero row and padded row were last laid out for: a channel with the
  // same one (every channel of a layer) only forgets the ring's rows, since every build writes
  // the same positions and leaves the padding zeros as they were.
  ConvGeometry laidOut{};
  int laidOutKind = -1;
};

/// d[i] = src[i] - zp for i < n as int16 (exact: the caller checked |x - zp| <= INT16_MAX).
template <typename T>
void rowMinusZp(KernelPath path, const T* src, int64_t n, int32_t zp, int16_t* d) {
  if constexpr (std::is_same_v<T, Act>) {
    panels::subRun(path, src, 1, n, zp, d);
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = int16_t(int32_t(src[i]) - zp);
  }
}

/// Whether channel weights w[0..taps) all fit int16 (a precondition of the pair kernel).
template <typename W>
bool weightsFitInt16(const W* w, int64_t taps) {
  for (int64_t t = 0; t < taps; ++t)
    if (w[t] < INT16_MIN || w[t] > INT16_MAX) return false;
  return true;
}

/// One channel plane `plane` (h x w values of activation type T) through the pair kernel into
/// `out` (oh x ow, after the output stage of `channel`). Preconditions as above.
template <typename T, typename W>
void depthwisePairsChannel(const ConvParams& p, const T* plane, const W* w, int64_t channel,
                           PairScratch& s, Act* out);

/// The whole-plane form of the even/odd split (depthwise_plane.cpp) for a channel of `g`: column
/// and row stride 1, column dilation 1, and a padded plane of at most kPlaneWords pair words.
/// The padded rows then lie end to end in one array (pitch P words), so that output row oy's
/// window row ky is the array from word (oy + ky * dh) * P on, and a band of output rows is one
/// call of the micro-kernel over a run of oh * P words (each row's few columns past ow, which read
/// the next row, are computed and dropped) instead of one call per output row.
constexpr int64_t kPlaneWords = 8192;
bool planeFits(const ConvGeometry& g);
template <typename T, typename W>
void depthwisePlaneChannel(const ConvParams& p, const T* plane, const W* w, int64_t channel,
                           PairScratch& s, Act* out);

/// The even/odd split's weight pairs of window row ky, tap pair t (pairCount per row): s.wPairs
/// (w[2t], w[2t + 1]) for the even output columns, s.wOdd (w[2t - 1], w[2t]) for the odd ones (0
/// outside the window); s.wPairs alone is also the pair kernel's (w[2t], w[2t + 1]).
template <typename W>
void weightPairs(const ConvGeometry& g, const W* w, int64_t pairCount, PairScratch& s);

/// acc[ox] = bias + sum_r madd(rows[r][ox], w[r]) for ox < width (a multiple of kBlock): the
/// row micro-kernel, per path (portable, AVX2, NEON).
void pairRows(KernelPath path, const int32_t* const* rows, const int32_t* w, int64_t nr,
              int64_t width, int32_t bias, int32_t* acc);
void pairRowsPortable(const int32_t* const* rows, const int32_t* w, int64_t nr, int64_t width,
                      int32_t bias, int32_t* acc);
void pairRowsAvx2(const int32_t* const* rows, const int32_t* w, int64_t nr, int64_t width,
                  int32_t bias, int32_t* acc);
void pairRowsNeon(const int32_t* const* rows, const int32_t* w, int64_t nr, int64_t width,
                  int32_t bias, int32_t* acc);

/// The even/odd split (column stride 1, dilation 1): rows[ky] is the padded row's words
/// D[i] = (xr[2i], xr[2i + 1]) for window row ky (nk rows, np tap pairs each, weight pair
/// r = ky * np + t), and acc[2i] = bias + sum madd(rows[ky][i + t], we[r]),
/// acc[2i + 1] = bias + sum madd(rows[ky][i + t], wo[r]) for i < half (a multiple of kBlock): the
/// even columns take tap pairs (w[2t], w[2t + 1]), the odd ones (w[2t - 1], w[2t]) of the same
/// words, so the row needs no pair words of its own and one pointer per window row. Per path
/// (portable, AVX2, NEON).
void pairRowsEvenOdd(KernelPath path, const int32_t* const* rows, const int32_t* we,
                     const int32_t* wo, int64_t nk, int64_t np, int64_t half, int32_t bias,
                     int32_t* acc);
void pairRowsEvenOddPortable(const int32_t* const* rows, const int32_t* we, const int32_t* wo,
                             int64_t nk, int64_t np, int64_t half, int32_t bias, int32_t* acc);
void pairRowsEvenOddAvx2(const int32_t* const* rows, const int32_t* we, const int32_t* wo,
                         int64_t nk, int64_t np, int64_t half, int32_t bias, int32_t* acc);
void pairRowsEvenOddNeon(const int32_t* const* rows, const int32_t* we, const int32_t* wo,
                         int64_t nk, int64_t np, int64_t half, int32_t bias, int32_t* acc);

/// q[j] = gemm::pairWord(x[j], x[j + d]) for j < n rounded up to a multiple of 16 (x holds that
/// many values plus d), per path.
void pairWords(KernelPath path, const int16_t* x, int64_t d, int64_t n, int32_t* q);
void pairWordsPortable(const int16_t* x, int64_t d, int64_t n, int32_t* q);
void pairWordsAvx2(const int16_t* x, int64_t d, int64_t n, int32_t* q);

}  // namespace kiln::rt::dw
