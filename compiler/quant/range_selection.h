// Range selection: the quantization range of an activation tensor that minimises the expected
// squared quantization error (rounding inside the range + clipping outside), from a histogram of
// its calibrated values. See docs/arithmetic.md §1.
#pragma once

#include "compiler/quant/calibration_stats.h"

namespace kiln::quant {

struct RangeChoice {
  double lo = 0, hi = 0;  // the chosen range (inside the calibrated [min, max])
  double clipped = 0;     // fraction of the calibrated values outside the chosen grid
  double mse = 0;         // expected squared error per value with the chosen range
  double mseMinMax = 0;   // ... with the calibrated [min, max]
  bool changed = false;   // the range differs from [min, max]
};

struct RangeSearch {
  /// Candidates are never allowed to clip more than this fraction of the calibrated values.
  double maxClipped = 1.0;
  /// Weight of the clipping error against the rounding error. Above 1, clipped values count
  /// more than their own squared error: large values often carry the signal downstream (e.g. the
  /// few text pixels of a detection map), and the output SNR of BlazeFace and PP-OCR is best
  /// with 4 (plain MSE, 1, clips too much for PP-OCR's output).
  double clipWeight = 4.0;
  /// Widen each candidate so that the grid (after the zero point's rounding) covers it.
  bool snapEnds = true;
};

/// Expected squared error per value of quantizing the histogram's values with the `bits`-bit
/// affine grid quantFromRange(lo, hi, bits) builds (0 exact; the zero point's rounding shifts the
/// grid's ends, which is modelled). Values are taken uniform inside each bin; the bins holding
/// the calibrated extremes end at `minmax`. Rounding: step²/12 per non-zero value inside the
/// grid; clipping: (x − end)² per value beyond it. `clippedOut`, when given, receives the
/// fraction of values beyond the grid.
double expectedError(const Histogram& h, const Range& minmax, int bits, double lo, double hi,
                     double* clippedOut = nullptr);

/// The range minimising expectedError over a grid of candidates: each nonzero side of
/// [min, max] shrunk by factors from 1 down to 1/1000 (160 geometric steps per side, all pairs).
/// Returns [min, max] unchanged when the histogram is empty or no candidate does better.
RangeChoice selectRange(const Histogram& h, const Range& minmax, int bits,
                        const RangeSearch& opts = {});

}  // namespace kiln::quant
