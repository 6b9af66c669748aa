// Range selection for tensors read channel by channel. A depthwise convolution reads each channel
// of its input on its own, so each output channel carries its input channel's own signal-to-noise
// ratio; the per-tensor least-error range (range_selection.h) minimises the absolute error of the
// whole tensor, which the largest channels dominate, and leaves small channels with a few steps
// of the grid. Here the range minimises the sum over channels of each channel's error relative
// to its own signal power (from per-channel histograms gathered in calibration): the noise the
// reader sees once every channel is brought to the same scale (the batch normalization folded
// into the depthwise convolution does that). See docs/arithmetic.md §1.
#pragma once

#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/quant/calibration_stats.h"
#include "compiler/quant/range_selection.h"

namespace kiln::quant {

/// Per layer, true when its output is read by convolutions only (conv or dw: readers that weigh
/// each input channel on its own), at least one of them depthwise, directly or through layers
/// that keep its quantization (pad, ...) with its channel dimension (dimension 1) unchanged. A
/// tensor that another kind of layer also reads (a residual add, an output) keeps the per-tensor
/// least-error range: such readers see the absolute error. (Depthwise readers only was tried:
/// it leaves out PP-OCR's tensors also read by 1x1 convolutions, and did worse.)
std::vector<bool> channelReadTensors(const Graph& g);

struct ChannelRangeSearch {
  /// Weight of the clipping error against the rounding error (as RangeSearch::clipWeight). Plain
  /// squared error here: each channel's error is already weighed by its own power.
  double clipWeight = 1.0;
  /// Candidates never clip more than this fraction of the tensor's positive values (as
  /// RangeSearch::maxPositiveClipped, over all channels).
  double maxPositiveClipped = 0.01;
};

/// What a range does to the channels of a tensor, for reports and tests.
struct ChannelRangeScore {
  double sumRelative = 0;      // Σ_c error_c / power_c (channels of nonzero power)
  double minSnrDb = 0;         // the worst channel's 10 log10(power_c / error_c)
  double meanSnrDb = 0;        // the channels' mean SNR in dB
  double positiveClipped = 0;  // fraction of the positive values beyond the grid
};

/// The score of the `bits`-bit grid quantFromRange(lo, hi, bits) on the channels of `cs`
/// (`minmax`: the tensor's calibrated range). Error per value as expectedError (rounding s²/12
/// inside, clipWeight (x − end)² beyond); power_c = E[x²] over channel c.
ChannelRangeScore scoreChannelRange(const ChannelStats& cs, const Range& minmax, int bits,
                                    double lo, double hi, const ChannelRangeSearch& opts = {});

/// The candidate range (rangeCandidates(minmax, bits, false, true), and min/max, which wins ties)
/// of least Σ_c error_c / power_c within the limits of `opts`. RangeChoice::mse and mseMinMax
/// hold that sum (not a per-value error); `clipped` the fraction of all values beyond the grid.
RangeChoice selectChannelRange(const ChannelStats& cs, const Range& minmax, int bits,
                               const ChannelRangeSearch& opts = {});

}  // namespace kiln::quant
