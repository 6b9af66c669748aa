// Step "correct": bias correction (level >= 1 or the script's bias_correction) and
// error-compensating weight rounding (level >= 2), run layer by layer against the float network
// on calibration samples.
#include <cmath>

#include <fmt/core.h>

#include "compiler/optimize/optimize_steps.h"
#include "compiler/optimize/sequential_correction.h"

namespace kiln::optimize {

void stepCorrect(OptimizeState& s) {
  if (!s.biasCorrection && !s.compensateRounding) return;
  const auto& samples = s.samples;
  // On up to 16 samples from the end of the calibration set, clear of the first ones the noise
  // report measures on when there are enough.
  const size_t n = s.reportSampleCount();
  size_t m = std::min<size_t>(samples.size(), 16);
  if (samples.size() >= n + 4) m = std::min(m, samples.size() - n);
  // Score heads' logits are corrected in their decision zone (sequential_correction.h).
  std::vector<std::pair<double, double>> calibrated;
  for (const quant::Range& r : s.calibrated) calibrated.emplace_back(r.min, r.max);
  const CorrectionResult r = sequentialCorrection(
      s.graph(), {samples.end() - long(m), samples.end()},
      {s.biasCorrection, s.compensateRounding, decisionZoneFloors(s.decision, calibrated)});
  if (s.compensateRounding)
    s.options.info(fmt::format(
        "weight rounding: {} layer(s) rounded against their inputs on {} sample(s), output "
        "error from weight rounding {:.1f} dB below rounding to nearest",
        r.rounded, m, r.chosenError > 0 ? 10 * std::log10(r.nearestError / r.chosenError) : 0.0));
  if (s.biasCorrection)
    s.options.info(fmt::format(
        "bias correction: {} layer(s) corrected on {} sample(s){}", r.biasCorrected, m,
        r.zoneCorrected ? fmt::format(" ({} of them in their decision zone)", r.zoneCorrected)
                        : std::string()));
}

}  // namespace kiln::optimize
