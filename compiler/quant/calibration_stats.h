// Calibration statistics: the float range of every layer output (and, for layers with a table
// activation, of the value before the activation) over the calibration samples.
#pragma once

#include <functional>
#include <limits>
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
  int samples = 0;
};

/// Runs the float graph on every sample ([sample][input]) and gathers ranges. `progress` is
/// called after each sample with (done, total).
CalibStats collectStats(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const std::function<void(int, int)>& progress = {});

}  // namespace kiln::quant
