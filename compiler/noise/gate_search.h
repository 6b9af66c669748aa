// `kiln optimize --target-gates CONFIG`: the mixed-precision search judged by decisions. The
// config's `eval:` outputs and `expect:` gates are checked on the held-out data (not on the
// evaluation set), and the tensors to lift are ranked by what lifting each alone does to the
// figures of the gates that fail (eval::Tally over the advanced noise analysis's lift runs),
// output SNR only breaking ties. compiler/noise/mixed_precision.h runs the rounds.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/eval/evaluate.h"
#include "compiler/noise/noise_suggestions.h"

namespace kiln::noise {

struct GateStatus {
  eval::TargetMetrics figures;          // the quantized network against float
  std::vector<eval::GateResult> gates;  // every gate on those figures
  bool passed() const;
  std::string line() const;  // "min_f1 Identity:0 0.931 < 0.95 (FAIL), ..."
  nlohmann::json json() const;
};

/// Runs the quantized network and float on `held` and checks `spec.gates`.
GateStatus measureGates(const Graph& g, const std::vector<std::vector<FloatBuffer>>& held,
                        const eval::EvalSpec& spec);

struct GatePick {
  std::vector<NoiseSuggestion> chosen;  // best first
  std::string why;                      // one line per choice, for the log
};

/// Ranks every candidate tensor by its effect on the failing gates (advanced analysis on `held`,
/// lift runs only, each scored with an eval::Tally) and picks the best ones: while a failing
/// gate's figure is not expected to reach its bound (the candidates' improvements added up), the
/// candidate that helps the failing gates most, without breaking a passing one, within
/// `maxFraction` of activation bytes in 16 bits; at most `maxPerRound`. Candidates that change
/// no decision are ranked by their SNR gain at the failing gates' outputs.
GatePick pickForGates(const Graph& g, const std::vector<std::vector<FloatBuffer>>& held,
                      const eval::EvalSpec& spec, const GateStatus& now, double maxFraction,
                      size_t maxPerRound, const std::function<void(int, int)>& progress);

}  // namespace kiln::noise
