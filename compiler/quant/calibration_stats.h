// Calibration statistics: the float range of every layer output (and, for layers with a table
// activation, of the value before the activation) over the calibration samples, and optionally
// a histogram of every layer output (for range selection, quant/range_selection.h).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include "compiler/emulator/float_executor.h"

namespace kiln::quant {

struct Range {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  /// Widens the range to the finite values of v (NaN and ±inf are ignored).
  void add(const std::vector<float>& v) { add(v.data(), v.size()); }
  void add(const float* v, size_t n);
  bool valid() const { return min <= max; }
};

/// Histogram of a tensor's finite values, anchored at 0: positive bin j counts the values in
/// [j wPos, (j + 1) wPos), negative bin j those in (−(j + 1) wNeg, −j wNeg]; exact zeros are
/// counted apart (they quantize without error). Each side has kBins bins; when a value falls
/// beyond the last bin, that side's width doubles (pairs of bins merge, exactly, since the grid
/// is anchored at 0), so a side always spans its extreme with between kBins/2 and kBins bins.
struct Histogram {
  static constexpr int kBins = 2048;
  double wPos = 0, wNeg = 0;  // bin widths (0: that side has seen no value yet)
  /// 2 kBins + 1 counts once used: [kBins − 1 − j] = negative bin j, [kBins] = exact zeros,
  /// [kBins + 1 + j] = positive bin j.
  std::vector<uint64_t> counts;
  uint64_t pos(int j) const { return counts[size_t(kBins + 1 + j)]; }
  uint64_t neg(int j) const { return counts[size_t(kBins - 1 - j)]; }
  uint64_t zeros() const { return counts[size_t(kBins)]; }
  bool empty() const { return counts.empty(); }
  /// Adds the values v[0..n) (NaN skipped), whose smallest and largest are `lo` and `hi`, both
  /// finite.
  void addFinite(const float* v, size_t n, float lo, float hi);

 private:
  /// Counts v[0..n) with the bin widths' reciprocals sp, sn (histogram_fill.cpp): value x goes
  /// to bin min(x sp, kBins - 1) (x > 0) or min(−x sn, kBins − 1) (x < 0) in float32, truncated.
  void countValues(const float* v, size_t n, float sp, float sn);
};

/// Per-channel statistics of a layer output (channels: the indices of dimension 1), for tensors
/// read channel by channel (quant/channel_range.h): each channel's histogram and range.
struct ChannelStats {
  std::vector<Histogram> hist;
  std::vector<Range> range;
};

struct CalibStats {
  std::vector<Range> out;  // per layer (output port 0; Kiln layers have one output)
  std::vector<Range> pre;  // per layer, before the fused activation (invalid when none)
  std::vector<std::vector<double>>
      channelAbsMax;                     // per layer, largest |value| of each index of dimension 1
  std::vector<Histogram> hist;           // per layer output (empty when not asked for)
  std::map<int, ChannelStats> channels;  // per-channel statistics of the layers asked for
  std::map<int, std::vector<float>> values;  // sampled output values of the layers asked for
  /// Per layer, per sample: the largest finite |value| of the output (quant/outliers.h).
  std::vector<std::vector<double>> sampleAbsMax;
  int samples = 0;
};

/// What collectStats gathers besides the ranges (out, pre), which it always gathers.
struct StatsOptions {
  bool channelAbsMax = true;  // CalibStats::channelAbsMax (equalization)
  bool histograms = false;    // CalibStats::hist, for every layer except the inputs
  /// Layers whose output also gets per-channel histograms and ranges (CalibStats::channels).
  std::set<int> channelLayers;
  /// Layers whose output values are also sampled (up to 2^18 values each, a deterministic
  /// reservoir), for percentile clipping.
  std::set<int> sampleLayers;
};

/// The p-th percentile (0-100) of a layer's sampled values (nearest rank).
double percentile(std::vector<float> values, double p);

/// Runs the float graph on every sample ([sample][input]) and gathers the statistics `opts`
/// asks for. `progress` is called after each sample with (done, total).
CalibStats collectStats(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const StatsOptions& opts,
                        const std::function<void(int, int)>& progress = {});

/// Ranges and channel abs-max (no histograms); `sampleLayers` as StatsOptions.
CalibStats collectStats(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const std::function<void(int, int)>& progress = {},
                        const std::set<int>& sampleLayers = {});

}  // namespace kiln::quant
