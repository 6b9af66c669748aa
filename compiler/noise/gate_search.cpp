#include "compiler/noise/gate_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
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

// The smoothed figure that stands for a gate's (NaN when its output has none): the soft F1 of
// a scores output's positives or of a map's pixels, for the gates on F1 and IoU.
double softOf(const GateStatus& s, const eval::GateResult& gr) {
  if (gr.gate.metric != "f1" && gr.gate.metric != "iou")
    return std::numeric_limits<double>::quiet_NaN();
  for (size_t k = 0; k < s.outputs.size() && k < s.soft.size(); ++k)
    if (s.outputs[k] == gr.output) return s.soft[k];
  return std::numeric_limits<double>::quiet_NaN();
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
                        const eval::EvalSpec& spec, const SoftScales* scales) {
  const auto names = onnxNames(g), kiln = kilnNames(g);
  eval::Tally t(spec, names, kiln);
  const auto outIds = g.outputLayers();
  const LoweredProgram lp = lowerProgram(g);
  // Every sample's outputs are kept when the scales come from this build (two passes).
  std::vector<std::vector<FloatBuffer>> refs, gots;
  SoftScaleMeter meter(spec, names, kiln);
  std::unique_ptr<SoftTally> soft;
  if (scales) soft = std::make_unique<SoftTally>(spec, names, kiln, *scales);
  for (const auto& in : held) {
    std::vector<FloatBuffer> ref = runFloat(g, in);
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
    if (soft) {
      soft->add(rp, gp);
    } else {
      meter.add(rp, gp);
      refs.push_back(std::move(ref));
      gots.push_back(std::move(got));
    }
  }
  GateStatus st;
  st.outputs = names;
  if (!soft) {
    st.scales = meter.scales();
    soft = std::make_unique<SoftTally>(spec, names, kiln, st.scales);
    for (size_t s = 0; s < refs.size(); ++s) {
      std::vector<const FloatBuffer*> rp, gp;
      for (size_t k = 0; k < refs[s].size(); ++k) {
        rp.push_back(&refs[s][k]);
        gp.push_back(&gots[s][k]);
      }
      soft->add(rp, gp);
    }
  } else {
    st.scales = *scales;
  }
  for (size_t k = 0; k < names.size(); ++k) st.soft.push_back(soft->f1(k));
  st.figures = t.figures("quantized");
  st.gates = eval::checkGates(spec.gates, {st.figures});
  for (const eval::GateResult& r : st.gates)
    if (r.target.empty())  // the gate names no figure the outputs have: it can never pass
      throw Error(r.message);
  return st;
}

double gateGain(const GateStatus& base, const GateStatus& s) {
  double gain = 0;
  for (size_t i = 0; i < base.gates.size() && i < s.gates.size(); ++i) {
    const eval::GateResult& b = base.gates[i];
    if (b.passed) {
      gain -= s.gates[i].passed ? 0.0 : 1.0;
      continue;
    }
    // A trial is a real build, so its counted figure is measured, not estimated: both count.
    const double sb = softOf(base, b), ss = softOf(s, s.gates[i]);
    if (std::isfinite(sb) && std::isfinite(ss)) {
      gain += ss - sb;
      if (std::isfinite(b.figure) && std::isfinite(s.gates[i].figure))
        gain += margin(b, s.gates[i].figure) - margin(b, b.figure);
    } else if (std::isfinite(b.figure) && std::isfinite(s.gates[i].figure)) {
      const double need = std::max(-margin(b, b.figure), 1e-9);
      gain += std::clamp((margin(b, s.gates[i].figure) - margin(b, b.figure)) / need, -1.0, 1.0);
    }
  }
  return gain;
}

std::vector<int> decisionChain(const Graph& g, int outputId, const std::vector<int>& candidates) {
  std::vector<int> chain;
  int id = outputId;
  for (;;) {
    const Layer& l = g.at(id);
    if (l.hasParam("kernel") || l.qparams.count("kernel")) {
      chain.push_back(id);
      std::reverse(chain.begin(), chain.end());
      return chain;
    }
    if (l.inputs.empty()) return {};
    if (std::find(candidates.begin(), candidates.end(), id) != candidates.end())
      chain.push_back(id);
    id = l.inputs[0].layer;
  }
}

GatePick pickForGates(const Graph& g, const std::vector<std::vector<FloatBuffer>>& held,
                      const eval::EvalSpec& spec, const GateStatus& now, double maxFraction,
                      size_t maxPerRound, size_t maxCompound,
                      const std::function<void(int, int)>& progress) {
  // Every candidate's figures with only it lifted, from the lift runs of the analysis: counted
  // (the gates' own figures) and smoothed (with the current build's scales).
  const std::vector<int> cands = optimize::noiseCandidates(g);
  const auto names = onnxNames(g), kiln = kilnNames(g);
  std::vector<std::unique_ptr<eval::Tally>> tallies;
  std::vector<std::unique_ptr<SoftTally>> softs;
  for (size_t c = 0; c < cands.size(); ++c) {
    tallies.push_back(std::make_unique<eval::Tally>(spec, names, kiln));
    softs.push_back(std::make_unique<SoftTally>(spec, names, kiln, now.scales));
  }
  eval::Tally base(spec, names, kiln);
  SoftTally baseSoft(spec, names, kiln, now.scales);
  optimize::NoiseAnalysisOptions adv;
  adv.advanced = true;
  adv.quantizeOnly = false;
  adv.progress = progress;
  adv.observeLift = [&](int c, const std::vector<const FloatBuffer*>& ref,
                        const std::vector<const FloatBuffer*>& got) {
    (c < 0 ? base : *tallies[size_t(c)]).add(ref, got);
    (c < 0 ? baseSoft : *softs[size_t(c)]).add(ref, got);
  };
  const optimize::NoiseAnalysis r = optimize::analyzeNoise(g, held, adv);
  const eval::TargetMetrics baseFig = base.figures("quantized");
  // The output index of each gate (names.size(): none).
  std::vector<size_t> outOf;
  for (const eval::GateResult& gr : now.gates) {
    size_t o = 0;
    while (o < names.size() && names[o] != gr.output) ++o;
    outOf.push_back(o);
  }
  auto smoothed = [&](const eval::GateResult& gr) {
    return gr.gate.metric == "f1" || gr.gate.metric == "iou";
  };

  // Per candidate and gate: the figure's move toward the good side (negative: away from it);
  // the smoothed figure's move where the gate's output has one.
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
    for (size_t i = 0; i < now.gates.size(); ++i) {
      const eval::GateResult& gr = now.gates[i];
      const double* v = figureOf(f, gr.output, gr.gate.metric);
      const double* b = figureOf(baseFig, gr.output, gr.gate.metric);
      double d = v && b ? margin(gr, *v) - margin(gr, *b) : 0.0;
      if (smoothed(gr) && outOf[i] < names.size()) {
        const double sv = softs[c]->f1(outOf[i]), sb = baseSoft.f1(outOf[i]);
        if (std::isfinite(sv) && std::isfinite(sb)) d = sv - sb;
      }
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
                            bestScore > 0 ? "smoothed decisions" : "no decision moves", moves,
                            best->snrGain, best->bytes);
    pick.chosen.push_back(std::move(s));
  }

  // Whole layers (input, weights and output in 16 bits), which no lift run prices: each failing
  // output's decision chain (a head's error near the decisions can be its weights', and what
  // follows it must not round its result back to 8 bits), then the layers whose input and
  // output tensors, lifted one at a time, move the failing gates' smoothed figures most together.
  std::map<int, size_t> candIndex;
  for (size_t c = 0; c < cands.size(); ++c) candIndex[cands[c]] = c;
  auto weighted = [&](int id) {
    const Layer& l = g.at(id);
    return (l.hasParam("kernel") || l.qparams.count("kernel")) && l.precision != kWholeMode;
  };
  auto estimate = [&](int id) {
    double e = 0;
    std::vector<int> tensors{id};
    for (const ValueRef& v : g.at(id).inputs) tensors.push_back(v.layer);
    for (int t : tensors) {
      const auto it = candIndex.find(t);
      if (it == candIndex.end()) continue;
      for (size_t i : failing) e += all[it->second].delta[i];
    }
    return e;
  };
  std::vector<std::vector<int>> whole;
  auto proposed = [&](int id) {
    for (const auto& w : whole)
      if (std::find(w.begin(), w.end(), id) != w.end()) return true;
    return false;
  };
  const auto outIds = g.outputLayers();
  for (size_t i : failing) {
    if (outOf[i] >= outIds.size()) continue;
    std::vector<int> chain = decisionChain(g, outIds[outOf[i]], cands);
    const bool lifts = std::any_of(chain.begin(), chain.end(),
                                   [&](int id) { return g.at(id).precision != kWholeMode; });
    if (lifts && !proposed(chain.front())) whole.push_back(std::move(chain));
  }
  std::vector<std::pair<double, int>> ranked;
  for (size_t id = 0; id < g.layers.size(); ++id)
    if (weighted(int(id)) && !proposed(int(id))) {
      const double e = estimate(int(id));
      if (e > 0) ranked.push_back({-e, int(id)});
    }
  std::sort(ranked.begin(), ranked.end());
  for (const auto& [e, id] : ranked) whole.push_back({id});
  for (const std::vector<int>& w : whole) {
    if (pick.compound.size() >= maxCompound) break;
    std::vector<std::pair<int, std::string>> modes;
    WholeProposal p;
    for (int id : w) {
      modes.push_back({id, kWholeMode});
      p.lines.push_back(
          fmt::format("quantization_param({}, precision_mode={})", g.at(id).name, kWholeMode));
    }
    const auto bits = bitsWithModes(g, modes);
    if (sixteenBitFraction(g, bits) > maxFraction) continue;
    p.activationBytes = activationBytes(g, bits) - baseBytes;
    std::string names;
    for (int id : w) names += (names.empty() ? "" : " + ") + g.at(id).name;
    pick.why += fmt::format("  {} whole ({}): to try, tensors alone {:+.4f}, +{} B\n", names,
                            kWholeMode, estimate(w.front()), p.activationBytes);
    pick.compound.push_back(std::move(p));
  }
  return pick;
}

}  // namespace kiln::noise
