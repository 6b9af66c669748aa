// Step "equalize": cross-layer equalization (optimization level >= 0 unless the script disables
// it), on the per-channel ranges of the original graph from a first, shorter calibration pass.
#include <fmt/core.h>

#include "compiler/optimize/equalization.h"
#include "compiler/optimize/optimize_steps.h"

namespace kiln::optimize {

void stepEqualize(OptimizeState& s) {
  const ScriptSettings& st = s.settings;
  if (st.optimizationLevel < 0 || !st.equalization) return;
  // Equalization works on the calibrated per-channel ranges of the original graph (a first,
  // shorter pass over at most 16 samples); the real calibration (stepSelectRanges) sees the
  // equalized graph.
  const size_t m = std::min<size_t>(s.samples.size(), 16);
  quant::StatsOptions eqOpts;
  const quant::CalibStats pre =
      quant::collectStats(s.graph(), {s.samples.begin(), s.samples.begin() + long(m)}, eqOpts);
  const int pairs = equalizeLayers(s.graph(), pre.channelAbsMax);
  s.options.info(fmt::format(
      "optimization level {}: equalized {} layer pair(s), bias correction {}, weight rounding {}",
      st.optimizationLevel, pairs, s.biasCorrection ? "on" : "off",
      s.compensateRounding ? "error-compensating" : "to nearest"));
}

}  // namespace kiln::optimize
