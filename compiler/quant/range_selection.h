// Range selection: the quantization range of an activation tensor that minimises the expected
// squared quantization error (rounding inside the range + clipping outside), from a histogram of
// its calibrated values. See docs/arithmetic.md §1.
#pragma once

#include <utility>
#include <vector>

#include "compiler/ir/types.h"
#include "compiler/quant/calibration_stats.h"

namespace kiln::quant {

struct RangeChoice {
  double lo = 0, hi = 0;  // the chosen range (inside the calibrated [min, max])
  double clipped = 0;     // fraction of the calibrated values outside the chosen grid
  double mse = 0;         // expected squared error per value with the chosen range
  double mseMinMax = 0;   // ... with the calibrated [min, max]
  bool changed = false;   // the range differs from [min, max]
  /// A decision tensor whose positive side could not get RangeSearch::minPositiveLevels steps
  /// (the one with the most levels was taken).
  bool positiveSideShort = false;
};

struct RangeSearch {
  /// Candidates are never allowed to clip more than this fraction of the calibrated values.
  double maxClipped = 1.0;
  /// ... nor more than this fraction of the positive values: a rare positive side (the few
  /// positive logits of a score head, what a ReLU will let through of a pre-activation) weighs
  /// little in the squared error but is often what the network decides with. (The negative side
  /// is free: clipping the small negative side of a hardswish costs PP-OCR nothing.)
  double maxPositiveClipped = 0.01;
  /// Weight of the clipping error against the rounding error. Above 1, clipped values count
  /// more than their own squared error: large values often carry the signal downstream (e.g. the
  /// few text pixels of a detection map), and the output SNR of BlazeFace and PP-OCR is best
  /// with 4 (plain MSE, 1, clips too much for PP-OCR's output).
  double clipWeight = 4.0;
  /// Widen each candidate so that the grid (after the zero point's rounding) covers it.
  bool snapEnds = true;
  /// Decision tensors (decision_tensors.h): the upper end stays the calibrated max, and when
  /// the positive side has values, the grid gives it at least this many steps, clipping the
  /// negative side as needed (0: no such rule). A score logit's negative tail only says "no";
  /// a positive logit below half a step would quantize to 0 and its decision would be lost.
  bool keepTop = false;
  int minPositiveLevels = 0;
  /// The positive-levels rule clips at most this fraction of the negative values (beyond, the
  /// range with the most positive levels within it is taken, and RangeChoice says so).
  double maxDecisionClipped = 0.25;
};

/// Decision tensors: the positive side spans at least this many steps of the 8-bit grid.
constexpr int kDecisionPositiveLevels = 64;

/// What a quantization grid does to each sign of a histogram's values.
struct SignLoss {
  double positives = 0, negatives = 0;              // fractions of all values
  double positiveClipped = 0, negativeClipped = 0;  // fractions of that sign beyond the grid
  double positiveLost = 0, negativeLost = 0;        // ... that quantize to 0 (the sign is lost)
};

/// The sign losses of quantizing the histogram's values (calibrated range `minmax`) on the grid
/// `q`: a value is clipped beyond the grid's end and lost when it rounds to the zero point.
SignLoss signLoss(const Histogram& h, const Range& minmax, const QuantInfo& q);

/// Expected squared error per value of quantizing the histogram's values with the `bits`-bit
/// affine grid quantFromRange(lo, hi, bits) builds (0 exact; the zero point's rounding shifts the
/// grid's ends, which is modelled). Values are taken uniform inside each bin; the bins holding
/// the calibrated extremes end at `minmax`. Rounding: step²/12 per non-zero value inside the
/// grid; clipping: (x − end)² per value beyond it. `clippedOut`, when given, receives the
/// fraction of values beyond the grid.
double expectedError(const Histogram& h, const Range& minmax, int bits, double lo, double hi,
                     double* clippedOut = nullptr);

/// The candidate ranges of a search over [min, max]: each nonzero side shrunk by factors from 1
/// down to 1/1000 (160 geometric steps per side; the upper end kept when `keepTop`), all pairs,
/// upper end outer; with `snapEnds`, each widened to the grid quantFromRange builds for it.
std::vector<std::pair<double, double>> rangeCandidates(const Range& minmax, int bits, bool keepTop,
                                                       bool snapEnds);

/// The range minimising expectedError over a grid of candidates: each nonzero side of
/// [min, max] shrunk by factors from 1 down to 1/1000 (160 geometric steps per side, all pairs),
/// within the limits of `opts`. Returns [min, max] unchanged when the histogram is empty or no
/// candidate does better (for a decision tensor, when min/max already meets its rules).
RangeChoice selectRange(const Histogram& h, const Range& minmax, int bits,
                        const RangeSearch& opts = {});

}  // namespace kiln::quant
