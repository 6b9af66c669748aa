// `kiln optimize --target-gates CONFIG`: the mixed-precision search judged by decisions. The
// config's `eval:` outputs and `expect:` gates are checked on the held-out data (not on the
// evaluation set), and the tensors to lift are ranked by what lifting each alone does to the
// smoothed figures of the gates that fail (compiler/noise/soft_figures.h over the advanced noise
// analysis's lift runs), output SNR only breaking ties. Besides single tensors, layers with
// weights are proposed whole (`precision_mode=a16_w16`: input, weights and output in 16 bits),
// which no lift run can price: compiler/noise/mixed_precision.h builds each proposal and measures
// it (a trial), and runs the rounds.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/eval/evaluate.h"
#include "compiler/noise/noise_suggestions.h"
#include "compiler/noise/soft_figures.h"

namespace kiln::noise {

struct GateStatus {
  eval::TargetMetrics figures;          // the quantized network against float
  std::vector<eval::GateResult> gates;  // every gate on those figures
  std::vector<std::string> outputs;     // the network's output names (ONNX), in output order
  SoftScales scales;                    // the smoothing the soft figures were measured with
  std::vector<double> soft;             // per output: its smoothed F1 (NaN: none)
  bool passed() const;
  std::string line() const;  // "min_f1 Identity:0 0.931 < 0.95 (FAIL), ..."
  nlohmann::json json() const;
};

/// Runs the quantized network and float on `held` and checks `spec.gates`. The smoothed figures
/// use `scales` when given (to compare a trial build with the one it started from), else the
/// scales this build's own errors give.
GateStatus measureGates(const Graph& g, const std::vector<std::vector<FloatBuffer>>& held,
                        const eval::EvalSpec& spec, const SoftScales* scales = nullptr);

/// How much better `s` is than `base` at the gates `base` fails: per failing gate, the move of
/// its output's smoothed figure (measured with base's scales) plus the move of the gate's own
/// figure (both F1 or IoU), or, where the output has no smoothed figure, the gate figure's move
/// relative to what it still needs; minus one per gate that `base` passes and `s` fails.
double gateGain(const GateStatus& base, const GateStatus& s);

/// Layers lifted whole together (`precision_mode=a16_w16` each), tried as one option.
struct WholeProposal {
  std::vector<std::string> lines;
  int64_t activationBytes = 0;  // extra activation bytes
};

struct GatePick {
  std::vector<NoiseSuggestion> chosen;    // single tensors, best first
  std::vector<WholeProposal> compound;    // whole layers (a16_w16), to be tried one by one
  std::string why;                        // one line per choice, for the log
};

/// Ranks every candidate tensor by its effect on the failing gates (advanced analysis on `held`,
/// lift runs only, each scored with an eval::Tally) and picks the best ones: while a failing
/// gate's figure is not expected to reach its bound (the candidates' improvements added up), the
/// candidate that helps the failing gates most, without breaking a passing one, within
/// `maxFraction` of activation bytes in 16 bits; at most `maxPerRound`. Candidates that change
/// no decision are ranked by their SNR gain at the failing gates' outputs. `compound`: up to
/// `maxCompound` layers with weights to lift whole: each failing output's decision chain
/// (decisionChain), then the layers whose input and output tensors' lifts together move the
/// smoothed figures most.
/// The layers an output's decisions are made in: the layer with weights nearest the output
/// (following first inputs) and the layers between it and the output that have their own
/// quantization (`candidates`, optimize::noiseCandidates), from the weighted layer on; empty when
/// no weighted layer is reached. An M-LSD heat map is conv -> resize -> sigmoid -> peak test:
/// lifting the conv alone leaves the resize and the sigmoid at 8 bits, where neighbouring peaks
/// round alike and both pass the test.
std::vector<int> decisionChain(const Graph& g, int outputId, const std::vector<int>& candidates);

GatePick pickForGates(const Graph& g, const std::vector<std::vector<FloatBuffer>>& held,
                      const eval::EvalSpec& spec, const GateStatus& now, double maxFraction,
                      size_t maxPerRound, size_t maxCompound,
                      const std::function<void(int, int)>& progress);

}  // namespace kiln::noise
