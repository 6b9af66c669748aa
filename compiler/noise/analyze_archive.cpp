#include "compiler/noise/analyze_archive.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "compiler/hwarch/hw_arch.h"
#include "compiler/noise/noise_suggestions.h"
#include "compiler/optimize/noise_analysis.h"

namespace kiln::noise {

namespace {

double round2(double v) {
  return std::round(v * 100) / 100;
}

}  // namespace

AnalyzeResult analyzeArchive(const Archive& a, const std::string& archiveName,
                             const AnalyzeOptions& o) {
  if (o.mode != "simple" && o.mode != "advanced")
    throw Error("--mode expects simple or advanced, got '" + o.mode + "'");
  if (std::find(a.stages.begin(), a.stages.end(), "optimize") == a.stages.end())
    throw Error(archiveName +
                ": not an optimized archive; run kiln optimize first (analyze-noise measures the "
                "quantized network against its float one)");
  const bool advanced = o.mode == "advanced";
  const hwarch::HwArch* arch = advanced ? &hwarch::findArch(o.hwArch) : nullptr;
  const Graph& g = a.graph;
  const HeldOutSamples held = loadHeldOut(g, o.data);
  for (const auto& w : held.warnings) o.warn(w);
  o.info(held.description);
  optimize::NoiseAnalysisOptions no;
  no.advanced = advanced;
  no.progress = o.progress;
  const optimize::NoiseAnalysis r = optimize::analyzeNoise(g, held.samples, no);

  AnalyzeResult res;
  std::string& t = res.text;
  nlohmann::json outputs = nlohmann::json::array(), layers = nlohmann::json::array();
  std::vector<std::string> outNames;
  for (int id : r.outputs) outNames.push_back(g.at(id).attrString("onnx_name"));
  t += fmt::format("Noise on {} held-out samples from {} (SNR vs float, all layers quantized):\n",
                   r.samples, o.data.name());
  for (size_t k = 0; k < r.outputs.size(); ++k) {
    outputs.push_back({{"name", outNames[k]}, {"snr_db", round2(r.outputSnr[k].db())}});
    t += fmt::format("  output {:<24} {:7.2f} dB\n", outNames[k], r.outputSnr[k].db());
  }
  std::vector<int> candIndex(g.layers.size(), -1);
  for (size_t c = 0; c < r.candidates.size(); ++c) candIndex[size_t(r.candidates[c])] = int(c);
  std::vector<std::pair<double, std::string>> worst;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::InputLayer || l.type == LayerType::OutputLayer) continue;
    nlohmann::json lj = {{"name", l.name},
                         {"type", typeWord(l.type)},
                         {"precision", l.precision},
                         {"bits", l.outputQuant.at(0).bits},
                         {"snr_db", round2(r.layerSnr[i].db())}};
    if (candIndex[i] >= 0) {
      nlohmann::json effects = nlohmann::json::array();
      const size_t c = size_t(candIndex[i]);
      for (size_t k = 0; k < r.outputs.size(); ++k)
        effects.push_back(
            {{"output", outNames[k]},
             {"quantize_only_db", round2(r.quantizeOnly[c][k].db())},
             {"lift16_gain_db", round2(r.lifted16[c][k].db() - r.outputSnr[k].db())}});
      lj["effects"] = effects;
    }
    worst.push_back({r.layerSnr[i].db(), l.name});
    layers.push_back(lj);
  }
  std::stable_sort(worst.begin(), worst.end());
  t += "  lowest layers:";
  for (size_t i = 0; i < worst.size() && i < 5; ++i)
    t += fmt::format("{} {} ({:.1f} dB)", i ? "," : "", worst[i].second, worst[i].first);
  t += "\n";

  nlohmann::json suggestions = nlohmann::json::array();
  if (advanced) {
    const auto list = rankSuggestions(g, r, *arch, size_t(o.top));
    t += suggestionTable(list, o.hwArch);
    for (const auto& s : list) suggestions.push_back(s.toJson());
  } else {
    t += "  (--mode advanced: the effect of each tensor on each output, and which to lift to 16 "
         "bits)\n";
  }
  res.json = {{"kind", "kiln-noise-analysis"},
              {"version", 1},
              {"mode", o.mode},
              {"archive", archiveName},
              {"hw_arch", o.hwArch},
              {"data", {{"path", o.data.name()}, {"samples", r.samples}}},
              {"outputs", outputs},
              {"layers", layers},
              {"suggestions", suggestions}};
  return res;
}

}  // namespace kiln::noise
