#include "compiler/noise/gate_search.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/core.h>

#include "common/strings.h"
#include "compiler/emulator/float_executor.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/eval/tally.h"
#include "compiler/lower/lower_program.h"

namespace kiln::noise {

namespace {

std::vector<std::string> onnxNames(const Graph& g) {
  std::vector<std::string> n;
  for (int id : g.outputLayers()) n.push_back(g.at(id).attrString("onnx_name"));
  return n;
}
std::vector<std::string> kilnNames(const Graph& g) {
  std::vector<std::string> n;
  for (int id : g.outputLayers()) n.push_back(g.at(id).name);
  return n;
}

const double* figureOf(const eval::TargetMetrics& t, const std::string& output,
                       const std::string& metric) {
  for (const eval::OutputMetrics& o : t.outputs)
    if (o.output == output) return o.get(metric);
  return nullptr;
}

// How far `v` is on the good side of the gate's bound (negative: it fails by that much).
double margin(const eval::GateResult& gr, double v) {
  return gr.gate.bound == eval::Bound::min ? v - gr.gate.value : gr.gate.value - v;
}

std::string fig(double v) {
  return fmt::format("{:.4g}", v);
}

}  // namespace

bool GateStatus::passed() const {
  for (const eval::GateResult& g : gates)
    if (!g.passed) return false;
  return true;
}

std::string GateStatus::line() const {
  std::string s;
  for (const eval::GateResult& g : gates)
    s += fmt::format("{}{} {} {} {}{}", s.empty() ? "" : ", ", g.gate.key, g.output, fig(g.figure),
                     g.passed ? "ok" : "FAIL", "");
  return s;
}

nlohmann::json GateStatus::json() const {
  nlohmann::json j = nlohmann::json::array();
  for (const eval::GateResult& g : gates)
    j.push_back({{"key", g.gate.key},
                 {"value", g.gate.value},
                 {"output", g.output},
                 {"figure", std::isfinite(g.figure) ? nlohmann::json(g.figure)
                                                    : nlohmann::json(fig(g.figure))},
                 {"passed", g.passed}});
  return j;
}

GateStatus measureGates(const Graph& g, const std::vector<std::vector<FloatBuffer>>& held,
                        const eval::EvalSpec& spec) {
  eval::Tally t(spec, onnxNames(g), kilnNames(g));
  const auto outIds = g.outputLayers();
  const LoweredProgram lp = lowerProgram(g);
  for (const auto& in : held) {
    const std::vector<FloatBuffer> ref = runFloat(g, in);
    const std::vector<IntBuffer> q = runLowered(lp, g, in);
    std::vector<FloatBuffer> got;
    for (size_t k = 0; k < q.size(); ++k)
      got.push_back(dequantize(q[k], g.at(outIds[k]).outputQuant[0]));
    std::vector<const FloatBuffer*> rp, gp;
    for (size_t k = 0; k < q.size(); ++k) {
      rp.push_back(&ref[k]);
      gp.push_back(&got[k]);
    }
    t.add(rp, gp);
  }
  GateStatus st;
  st.figures = t.figures("quantized");
  st.gates = eval::checkGates(spec.gates, {st.figures});
  for (const eval::GateResult& r : st.gates)
    if (r.target.empty())  // the gate names no figure the outputs have: it can never pass
      throw Error(r.message);
  return st;
}

GatePick pickForGates(const Graph& g, const std::vector<std::vector<FloatBuffer>>& held,
                      const eval::EvalSpec& spec, const GateStatus& now, double maxFraction,
                      size_t maxPerRound, const std::function<void(int, int)>& progress) {
  // Every candidate's figures with only it lifted, from the lift runs of the analysis.
  const std::vector<int> cands = optimize::noiseCandidates(g);
  const auto names = onnxNames(g), kiln = kilnNames(g);
  std::vector<std::unique_ptr<eval::Tally>> tallies;
  for (size_t c = 0; c < cands.size(); ++c)
    tallies.push_back(std::make_unique<eval::Tally>(spec, names, kiln));
  eval::Tally base(spec, names, kiln);
  optimize::NoiseAnalysisOptions adv;
  adv.advanced = true;
  adv.quantizeOnly = false;
  adv.progress = progress;
  adv.observeLift = [&](int c, const std::vector<const FloatBuffer*>& ref,
                        const std::vector<const FloatBuffer*>& got) {
    (c < 0 ? base : *tallies[size_t(c)]).add(ref, got);
  };
  const optimize::NoiseAnalysis r = optimize::analyzeNoise(g, held, adv);
  const eval::TargetMetrics baseFig = base.figures("quantized");

  // Per candidate and gate: the figure's move toward the good side (negative: away from it).
  struct Cand {
    size_t c;
    std::vector<double> delta;  // per gate of now.gates
    bool breaks = false;        // makes a passing gate fail
    double snrGain = 0;         // summed over the failing gates' outputs
    int64_t bytes = 0;
  };
  std::vector<size_t> failing;
  for (size_t i = 0; i < now.gates.size(); ++i)
    if (!now.gates[i].passed) failing.push_back(i);
  const int64_t baseBytes = activationBytes(g, bitsWithLifted(g, {}));
  std::vector<Cand> all;
  for (size_t c = 0; c < cands.size(); ++c) {
    Cand k{c, {}, false, 0, 0};
    const eval::TargetMetrics f = tallies[c]->figures("quantized");
    for (const eval::GateResult& gr : now.gates) {
      const double* v = figureOf(f, gr.output, gr.gate.metric);
      const double* b = figureOf(baseFig, gr.output, gr.gate.metric);
      const double d = v && b ? margin(gr, *v) - margin(gr, *b) : 0.0;
      k.delta.push_back(std::isfinite(d) ? d : 0.0);
      if (gr.passed && v && margin(gr, *v) < 0) k.breaks = true;
    }
    for (size_t i : failing)
      for (size_t o = 0; o < r.outputs.size(); ++o)
        if (names[o] == now.gates[i].output)
          k.snrGain += r.lifted16[c][o].db() - r.outputSnr[o].db();
    k.bytes = activationBytes(g, bitsWithLifted(g, {cands[c]})) - baseBytes;
    all.push_back(std::move(k));
  }

  // Greedy: the expected figures start at the measured ones; the candidate that moves the gates
  // still short the most (each gate's move counted up to what it still needs) goes first.
  std::vector<double> need(now.gates.size(), 0.0);
  for (size_t i : failing) need[i] = -margin(now.gates[i], now.gates[i].figure);
  GatePick pick;
  std::vector<int> lifted;
  std::vector<char> used(all.size(), 0);
  while (pick.chosen.size() < maxPerRound) {
    bool short_ = false;
    for (size_t i : failing) short_ |= need[i] > 0;
    if (!short_) break;
    const Cand* best = nullptr;
    double bestScore = 0;
    for (const Cand& k : all) {
      if (used[k.c] || k.breaks) continue;
      double score = 0;
      for (size_t i : failing)
        if (need[i] > 0) score += std::clamp(k.delta[i] / need[i], -1.0, 1.0);
      if (score < 0 || (score == 0 && k.snrGain <= 0.01)) continue;
      const bool better =
          !best || score > bestScore ||
          (score == bestScore &&
           (k.snrGain > best->snrGain || (k.snrGain == best->snrGain && k.bytes < best->bytes)));
      if (!better) continue;
      std::vector<int> with = lifted;
      with.push_back(cands[k.c]);
      if (sixteenBitFraction(g, bitsWithLifted(g, with)) > maxFraction) continue;
      best = &k;
      bestScore = score;
    }
    if (!best) break;
    used[best->c] = 1;
    lifted.push_back(cands[best->c]);
    NoiseSuggestion s;
    s.layer = cands[best->c];
    s.line =
        fmt::format("quantization_param({}, precision_mode={})", g.at(s.layer).name, kLiftMode);
    s.activationBytes = best->bytes;
    for (size_t o = 0; o < r.outputs.size(); ++o)
      s.gains.push_back({names[o], r.lifted16[best->c][o].db() - r.outputSnr[o].db()});
    std::string moves;
    for (size_t i : failing) {
      moves += fmt::format("{}{} {} {:+.4f}", moves.empty() ? "" : ", ", now.gates[i].gate.metric,
                           now.gates[i].output, best->delta[i]);
      need[i] -= best->delta[i];
    }
    pick.why += fmt::format("  {}: {} alone: {} (SNR {:+.2f} dB), +{} B\n", g.at(s.layer).name,
                            bestScore > 0 ? "decisions" : "no decision moves", moves, best->snrGain,
                            best->bytes);
    pick.chosen.push_back(std::move(s));
  }
  return pick;
}

}  // namespace kiln::noise
