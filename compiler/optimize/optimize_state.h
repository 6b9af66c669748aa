// OptimizeState: everything the steps of `kiln optimize` (optimize_steps.h) share, filled in step
// by step: the archive and its graph, the script's settings, the calibration samples and
// statistics, the range chosen for each layer, the precision options, the report and the options.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calib/calib_set.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/float_executor.h"
#include "compiler/optimize/optimizer.h"
#include "compiler/optimize/range_method.h"
#include "compiler/optimize/script_apply.h"
#include "compiler/quant/calibration_stats.h"
#include "compiler/quant/prepare.h"
#include "compiler/quant/range_selection.h"

namespace kiln::optimize {

/// A range that excludes most of the values of a sign that matters (stepCheckRanges).
struct RangeFinding {
  std::string layer, sign;          // sign: "positive" or "negative"
  bool decision = false;            // the layer's output is a decision tensor
  double share = 0;                 // that sign's fraction of the layer's calibrated values
  double clipped = 0, lost = 0;     // fractions of that sign beyond the grid / quantized to 0
  std::pair<double, double> range;  // the grid's ends
  std::string message;              // the warning
};

/// The state `kiln optimize` passes from step to step. Each field says which step fills it.
struct OptimizeState {
  OptimizeState(const Archive& parsed, const OptimizeOptions& o) : options(o), archive(parsed) {}

  /// The command-line options (messages go to options.info and options.warn).
  const OptimizeOptions& options;
  /// The archive being optimized: a copy of the parsed one, its graph changed in place.
  Archive archive;
  Graph& graph() { return archive.graph; }

  // stepScript: the script's text (empty without one), its settings and what they switch on.
  std::string scriptText;
  ScriptSettings settings;
  bool biasCorrection = false;      // by the level, or post_quantization_optimization
  bool compensateRounding = false;  // optimization level >= 2
  bool selectRanges = false;        // optimization level >= 0: least-error ranges

  // stepCalibrate: the calibration set and its samples as the network inputs' buffers.
  calib::CalibSet calibSet;
  std::vector<std::vector<FloatBuffer>> samples;

  // stepSelectRanges, stepSelectLeastErrorRanges: the statistics of the (equalized) graph, with
  // stats.out holding the range each layer output will be quantized to; the calibrated ranges
  // as measured; how each range was chosen; the least-error candidates (RangeMethod::Mse).
  quant::CalibStats stats;
  std::vector<quant::Range> calibrated;
  std::vector<RangeMethod> rangeMethod;
  std::vector<quant::RangeChoice> chosen;
  // stepSelectLeastErrorRanges: per layer, whether its output is a decision tensor.
  std::vector<bool> decision;
  // ... and per layer the saturation bound its range was searched within (invalid: none;
  // quant/saturation.h): values beyond it read the same at every activation that reads them.
  std::vector<quant::Range> saturation;
  // ... and per layer whether its range was chosen for its channels' own SNR (a tensor read by
  // depthwise convolutions, quant/channel_range.h): chosen[i].mse is then Σ_c error_c / power_c.
  std::vector<bool> perChannelRange;

  // stepCheckRanges: ranges that exclude most of a sign that matters.
  std::vector<RangeFinding> rangeFindings;

  // stepAssignPrecision: per-layer precision and 16-bit outputs, for prepare.
  quant::PrepareOptions precision;

  // stepReport: the report (optimize/report.json).
  nlohmann::json report;

  /// The number of samples the noise report measures on: the first ones of the set.
  size_t reportSampleCount() const {
    return std::min(samples.size(), size_t(std::max(1, options.reportSamples)));
  }
};

}  // namespace kiln::optimize
