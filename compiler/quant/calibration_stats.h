// Calibration statistics: the float range of every layer output (and, for layers with a table
// activation, of the value before the activation) over the calibration samples.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include "emulator/float_executor.h"

namespace kiln::quant {

struct Range {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  void add(const std::vector<float>& v);
  bool valid() const { return min <= max; }
};

struct CalibStats {
  std::vector<Range> out;  // per layer (output port 0; Kiln layers have one output)
  std::vector<Range> pre;  // per layer, before the fused activation (invalid when none)
  std::vector<std::vector<double>> channelMean;  // per layer, mean of each index of dimension 1
  std::vector<std::vector<double>> channelAbsMax;  // per layer, largest |value| of each index of dimension 1
  std::map<int, std::vector<float>> values;       // sampled output values of the layers asked for
  int samples = 0;
};

/// The p-th percentile (0-100) of a layer's sampled values (nearest rank).
double percentile(std::vector<float> values, double p);

/// Runs the float graph on every sample ([sample][input]) and gathers ranges. `progress` is
/// called after each sample with (done, total).
/// `sampleLayers`: layers whose output values are also sampled (up to 2^18 values each, a
/// deterministic reservoir), for percentile clipping.
CalibStats collectStats(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const std::function<void(int, int)>& progress = {},
                        const std::set<int>& sampleLayers = {});

}  // namespace kiln::quant
