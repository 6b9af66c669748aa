#include "compiler/noise/mixed_precision.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include <fmt/core.h>

#include "common/file_io.h"
#include "common/strings.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/hwarch/resource_plan.h"
#include "compiler/noise/gate_search.h"
#include "compiler/noise/noise_suggestions.h"
#include "compiler/optimize/noise_analysis.h"

namespace kiln::noise {

namespace {

// Picks suggestions until every output is expected to reach the target (+0.5 dB margin), no
// further one fits within `maxFraction` of activation bytes in 16 bits (counted with what each
// lift drags along, quant::assignBits), or none is left. Gains combine as removed noise power:
// lifting a tensor with gain G at an output removes 1 - 10^(-G/10) of its noise, and removals
// add up (at most to 95 % of the noise).
std::vector<const NoiseSuggestion*> pick(const Graph& g, const std::vector<NoiseSuggestion>& list,
                                         const std::vector<double>& snr, double target,
                                         double maxFraction) {
  std::vector<double> removed(snr.size(), 0.0);
  auto estimate = [&](size_t k) {
    return snr[k] - 10 * std::log10(std::max(0.05, 1.0 - removed[k]));
  };
  std::vector<const NoiseSuggestion*> chosen;
  std::vector<int> lifted;
  std::set<const NoiseSuggestion*> used;
  for (;;) {
    size_t worst = 0;
    for (size_t k = 1; k < snr.size(); ++k)
      if (estimate(k) < estimate(worst)) worst = k;
    if (estimate(worst) >= target + 0.5) break;
    const NoiseSuggestion* best = nullptr;
    for (const auto& s : list) {
      if (used.count(&s) || s.gains[worst].second <= 0.01) continue;
      if (best && s.gains[worst].second <= best->gains[worst].second) continue;
      std::vector<int> with = lifted;
      with.push_back(s.layer);
      if (sixteenBitFraction(g, bitsWithLifted(g, with)) > maxFraction) continue;
      best = &s;
    }
    if (!best) break;
    used.insert(best);
    chosen.push_back(best);
    lifted.push_back(best->layer);
    for (size_t k = 0; k < snr.size(); ++k)
      removed[k] += 1.0 - std::pow(10.0, -std::max(0.0, best->gains[k].second) / 10);
  }
  return chosen;
}

// How close a round came to the target, larger is closer: for SNR, the worst output's margin
// (dB); for gates, how many pass, then the failing ones' shortfalls relative to their bounds.
double worstMargin(const std::vector<double>& snr, double target) {
  double worst = 1e300;
  for (double v : snr) worst = std::min(worst, v - target);
  return worst;
}

std::pair<double, double> roundScore(const GateStatus& status) {
  double passed = 0, shortfall = 0;
  for (const eval::GateResult& r : status.gates) {
    if (r.passed) {
      passed += 1;
      continue;
    }
    const double miss =
        r.gate.bound == eval::Bound::min ? r.gate.value - r.figure : r.figure - r.gate.value;
    shortfall += std::max(0.0, miss) / std::max(std::abs(r.gate.value), 1e-9);
  }
  return {passed, -shortfall};
}

// Builds the script `text` plus each option's lines (a trial optimize, quiet, with one report
// sample: only the graph is used) and measures its gates on the held-out data with the smoothing
// of `now`. Per option: its gain over `now` (gateGain; -inf when it does not build) and a line for
// the log.
std::vector<std::pair<double, std::string>> tryOptions(
    const Archive& parsed, const optimize::OptimizeOptions& o, const std::string& text,
    const std::vector<std::vector<std::string>>& options,
    const std::vector<std::vector<FloatBuffer>>& held, const eval::EvalSpec& spec,
    const GateStatus& now) {
  std::vector<std::pair<double, std::string>> res;
  for (const auto& opt : options) {
    optimize::OptimizeOptions t = o;
    std::string s = text;
    for (const auto& l : opt) s += l + "\n";
    t.scriptText = s;
    t.reportSamples = 1;
    t.info = [](const std::string&) {};
    t.warn = [](const std::string&) {};
    t.progress = nullptr;
    t.reportProgress = nullptr;
    t.stepStarted = [](const std::string&) {};
    try {
      const Archive a = optimize::optimize(parsed, t);
      const GateStatus st = measureGates(a.graph, held, spec, &now.scales);
      std::string soft;
      for (size_t k = 0; k < st.soft.size(); ++k)
        if (std::isfinite(st.soft[k]))
          soft += fmt::format("{}{} {:.4f}", soft.empty() ? "" : ", ", st.outputs[k], st.soft[k]);
      const double gain = gateGain(now, st);
      res.push_back({gain, fmt::format("gain {:+.4f}; gates: {}; smoothed F1: {}; {:.1f} % in "
                                       "16 bits",
                                       gain, st.line(), soft, sixteenBitFraction(a.graph) * 100)});
    } catch (const std::exception& e) {
      res.push_back(
          {-std::numeric_limits<double>::infinity(), std::string("does not build: ") + e.what()});
    }
  }
  return res;
}

}  // namespace

double sixteenBitFraction(const Graph& g) {
  int64_t all = 0, wide = 0;
  for (const Layer& l : g.layers) {
    if (l.type == LayerType::OutputLayer || l.outputShapes.empty() || l.outputQuant.empty())
      continue;
    const int64_t bytes = numel(l.outputShapes[0]) * (l.outputQuant[0].bits > 8 ? 2 : 1);
    all += bytes;
    if (l.outputQuant[0].bits > 8) wide += bytes;
  }
  return all ? double(wide) / double(all) : 0.0;
}

MixedPrecisionResult searchMixedPrecision(const Archive& parsed, optimize::OptimizeOptions o,
                                          const MixedPrecisionOptions& m) {
  const std::string userScript = o.scriptText           ? *o.scriptText
                                 : o.scriptPath.empty() ? ""
                                                        : files::readText(o.scriptPath);
  const auto held = loadHeldOut(parsed.graph, m.data).samples;
  const std::string target = m.gates ? fmt::format("the quality gates of {}", m.gatesFrom)
                                     : fmt::format("{:.1f} dB at every output", m.targetSnrDb);
  o.info(fmt::format(
      "mixed precision: target {} on {} held-out sample(s) from {}, at most {:.0f} % of "
      "activation bytes in 16 bits",
      target, held.size(), m.data.name(), m.max16BitFraction * 100));
  const hwarch::HwArch& arch = hwarch::findArch(m.hwArch);
  std::vector<std::string> lines;
  MixedPrecisionResult res;
  // The round kept when the target is missed: the best one, not the last (a lift can undo what an
  // earlier one gained once the network is re-optimized around it).
  struct Kept {
    std::pair<double, double> score{-1e300, -1e300};
    int round = 0;
    Archive archive;
    std::string script;
    std::vector<std::string> lines, names;
    std::vector<double> snr;
    GateStatus gates;
  } kept;
  nlohmann::json rounds = nlohmann::json::array();
  std::vector<double> snr;
  std::vector<std::string> names;
  GateStatus gateStatus;
  for (int round = 1;; ++round) {
    std::string text = userScript;
    if (!text.empty() && text.back() != '\n') text += '\n';
    if (!lines.empty()) {
      text += m.gates
                  ? fmt::format("# kiln optimize --target-gates {}: tensors lifted to 16 bits\n",
                                m.gatesFrom)
                  : fmt::format("# kiln optimize --target-snr {}: tensors lifted to 16 bits\n",
                                m.targetSnrDb);
      for (const auto& l : lines) text += l + "\n";
    }
    if (m.writeScript) files::writeTextAtomic(m.scriptOut, text);
    o.scriptPath = m.scriptOut;
    o.scriptText = text;
    res.script = text;
    res.archive = optimize::optimize(parsed, o);
    const Graph& g = res.archive.graph;
    o.stepStarted("held-out measurement");
    optimize::NoiseAnalysisOptions simple;
    const auto measured = optimize::analyzeNoise(g, held, simple);
    snr.clear();
    names.clear();
    bool met = true;
    std::string status;
    for (size_t k = 0; k < measured.outputs.size(); ++k) {
      snr.push_back(measured.outputSnr[k].db());
      names.push_back(g.at(measured.outputs[k]).attrString("onnx_name"));
      met &= snr.back() >= m.targetSnrDb;
      status += fmt::format("{}{} {:.2f} dB", k ? ", " : "", names.back(), snr.back());
    }
    const double fraction = sixteenBitFraction(g);
    nlohmann::json roundJson = {{"lines", lines}, {"snr_db", snr}, {"fraction_16bit", fraction}};
    if (m.gates) {
      gateStatus = measureGates(g, held, *m.gates);
      met = gateStatus.passed();
      status = "gates: " + gateStatus.line() + "; SNR: " + status;
      roundJson["gates"] = gateStatus.json();
    }
    o.info(
        fmt::format("mixed precision round {}: {} line(s), {:.1f} % of activation bytes in 16 "
                    "bits; held-out {}",
                    round, lines.size(), fraction * 100, (m.gates ? "" : "SNR: ") + status));
    rounds.push_back(roundJson);
    res.met = met;
    const std::pair<double, double> score =
        m.gates ? roundScore(gateStatus) : std::make_pair(0.0, worstMargin(snr, m.targetSnrDb));
    if (met || score > kept.score)
      kept = {score, round, res.archive, text, lines, names, snr, gateStatus};
    if (met || round >= m.maxRounds) break;
    if (m.gates) {
      o.info("mixed precision: ranking the tensors by the failing gates (advanced noise analysis)");
      o.stepStarted("noise analysis (advanced)");
      const GatePick p = pickForGates(g, held, *m.gates, gateStatus, m.max16BitFraction,
                                      m.maxLinesPerRound, m.maxTrials, o.reportProgress);
      std::vector<std::vector<std::string>> options;
      if (!p.chosen.empty()) {
        options.emplace_back();
        for (const NoiseSuggestion& s : p.chosen) options.back().push_back(s.line);
      }
      for (const WholeProposal& w : p.compound) options.push_back(w.lines);
      if (options.empty()) {
        o.warn(fmt::format(
            "mixed precision: no further tensor within the budget of {:.0f} % moves a failing "
            "gate; stopping",
            m.max16BitFraction * 100));
        break;
      }
      o.info("mixed precision: candidates\n" + p.why.substr(0, p.why.size() - 1));
      size_t best = 0;
      if (options.size() > 1) {
        const auto t = tryOptions(parsed, o, text, options, held, *m.gates, gateStatus);
        for (size_t i = 0; i < t.size(); ++i)
          o.info(
              fmt::format("mixed precision: trial {}: {}", join(options[i], " + "), t[i].second));
        best = size_t(
            std::max_element(t.begin(), t.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; }) -
            t.begin());
        if (!(t[best].first > 0)) {
          o.warn("mixed precision: no candidate measurably moves the failing gates; stopping");
          break;
        }
      }
      for (const std::string& l : options[best]) lines.push_back(l);
      continue;
    }
    o.info("mixed precision: ranking the tensors (advanced noise analysis)");
    o.stepStarted("noise analysis (advanced)");
    optimize::NoiseAnalysisOptions adv;
    adv.advanced = true;
    adv.quantizeOnly = false;  // the ranking uses the lift runs only
    adv.progress = o.reportProgress;
    const auto r = optimize::analyzeNoise(g, held, adv);
    auto list = rankSuggestions(g, r, arch, r.candidates.size());
    const auto chosen = pick(g, list, snr, m.targetSnrDb, m.max16BitFraction);
    if (chosen.empty()) {
      o.warn(
          fmt::format("mixed precision: no further tensor within the budget of {:.0f} % "
                      "improves the outputs below {:.1f} dB; stopping",
                      m.max16BitFraction * 100, m.targetSnrDb));
      break;
    }
    for (const NoiseSuggestion* s : chosen) lines.push_back(s->line);
  }
  if (!res.met && kept.round != int(rounds.size())) {
    o.info(fmt::format("mixed precision: keeping round {} of {}, the closest to the target",
                       kept.round, rounds.size()));
    res.archive = std::move(kept.archive);
    res.script = kept.script;
    lines = kept.lines;
    names = kept.names;
    snr = kept.snr;
    gateStatus = kept.gates;
    if (m.writeScript) files::writeTextAtomic(m.scriptOut, res.script);
  }
  const Graph& g = res.archive.graph;
  const hwarch::PlanOptions popts;
  double fps = 0;
  try {
    fps = hwarch::planResources(g, arch, popts).fps;
  } catch (const Error&) {
  }
  res.summary = fmt::format(
      "Mixed precision: {} — {} line(s) in {}, {:.1f} % of activation bytes in 16 bits, "
      "estimated {:.0f} FPS on {}\n",
      res.met ? "target met" : "TARGET NOT MET", lines.size(), m.scriptOut,
      sixteenBitFraction(g) * 100, fps, m.hwArch);
  for (const auto& l : lines) res.summary += "  " + l + "\n";
  if (m.gates) {
    for (const eval::GateResult& gr : gateStatus.gates)
      res.summary += fmt::format("  {} held-out: {}\n", gr.passed ? "pass" : "FAIL", gr.message);
  } else {
    for (size_t k = 0; k < snr.size(); ++k)
      res.summary += fmt::format("  output {:<24} {:7.2f} dB held-out (target {:.1f})\n", names[k],
                                 snr[k], m.targetSnrDb);
  }
  res.json = {{"kind", "kiln-mixed-precision"},
              {"version", 1},
              {"target", m.gates ? "gates" : "snr"},
              {"target_snr_db", m.gates ? nlohmann::json() : nlohmann::json(m.targetSnrDb)},
              {"gates_config", m.gates ? nlohmann::json(m.gatesFrom) : nlohmann::json()},
              {"max_16bit_fraction", m.max16BitFraction},
              {"data", {{"path", m.data.name()}, {"samples", held.size()}}},
              {"met", res.met},
              {"script", m.scriptOut},
              {"lines", lines},
              {"fraction_16bit", sixteenBitFraction(g)},
              {"fps", fps},
              {"hw_arch", m.hwArch},
              {"kept_round", kept.round},
              {"rounds", rounds}};
  return res;
}

}  // namespace kiln::noise
