#include "compiler/noise/noise_suggestions.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "compiler/hwarch/resource_plan.h"
#include "compiler/quant/prepare.h"

namespace kiln::noise {

namespace {

double round2(double v) {
  return std::round(v * 100) / 100;
}

}  // namespace

int64_t activationBytes(const Graph& g, const std::vector<int>& bits) {
  int64_t n = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::OutputLayer || l.outputShapes.empty()) continue;
    n += numel(l.outputShapes[0]) * (bits[i] > 8 ? 2 : 1);
  }
  return n;
}

std::vector<int> bitsWithLifted(const Graph& g, const std::vector<int>& lift) {
  std::vector<std::pair<int, std::string>> modes;
  for (int id : lift) modes.emplace_back(id, kLiftMode);
  return bitsWithModes(g, modes);
}

std::vector<int> bitsWithModes(const Graph& g,
                               const std::vector<std::pair<int, std::string>>& modes) {
  quant::PrepareOptions p;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    quant::LayerPrecision lp;
    if (!g.layers[i].precision.empty() && quant::parsePrecisionMode(g.layers[i].precision, lp.mode))
      p.precision[int(i)] = lp;
  }
  for (const auto& [id, mode] : modes) quant::parsePrecisionMode(mode, p.precision[id].mode);
  for (int id : g.outputLayers()) p.output16 |= g.at(id).outputQuant.at(0).bits > 8;
  return quant::assignBits(g, p);
}

double sixteenBitFraction(const Graph& g, const std::vector<int>& bits) {
  int64_t all = 0, wide = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::OutputLayer || l.outputShapes.empty()) continue;
    const int64_t b = numel(l.outputShapes[0]) * (bits[i] > 8 ? 2 : 1);
    all += b;
    if (bits[i] > 8) wide += b;
  }
  return all ? double(wide) / double(all) : 0.0;
}

nlohmann::json NoiseSuggestion::toJson() const {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& [o, gdb] : gains) all[o] = round2(gdb);
  return {{"line", line},
          {"output", output},
          {"gain_db", round2(gainDb)},
          {"gains_db", all},
          {"activation_bytes", activationBytes},
          {"weight_bytes", weightBytes},
          {"fps_before", std::round(fpsBefore * 10) / 10},
          {"fps_after", std::round(fpsAfter * 10) / 10}};
}

std::vector<NoiseSuggestion> rankSuggestions(const Graph& g, const optimize::NoiseAnalysis& r,
                                             const hwarch::HwArch& arch, size_t top) {
  std::vector<NoiseSuggestion> all;
  for (size_t c = 0; c < r.candidates.size(); ++c) {
    NoiseSuggestion s;
    s.layer = r.candidates[c];
    const Layer& l = g.at(s.layer);
    s.line = fmt::format("quantization_param({}, precision_mode={})", l.name, kLiftMode);
    s.gainDb = -1e9;
    for (size_t k = 0; k < r.outputs.size(); ++k) {
      const std::string name = g.at(r.outputs[k]).attrString("onnx_name");
      const double gain = r.lifted16[c][k].db() - r.outputSnr[k].db();
      s.gains.push_back({name, gain});
      if (gain > s.gainDb) {
        s.gainDb = gain;
        s.output = name;
      }
    }
    if (s.gainDb <= 0.01) continue;
    all.push_back(std::move(s));
  }
  // The cost: the activation bytes that turn 16-bit, the tensor and what its bits drag along.
  const int64_t base = activationBytes(g, bitsWithLifted(g, {}));
  for (NoiseSuggestion& s : all)
    s.activationBytes = activationBytes(g, bitsWithLifted(g, {s.layer})) - base;
  std::stable_sort(all.begin(), all.end(), [](const NoiseSuggestion& a, const NoiseSuggestion& b) {
    if (a.gainDb != b.gainDb) return a.gainDb > b.gainDb;
    return a.activationBytes < b.activationBytes;
  });
  if (all.size() > top) all.resize(top);
  if (all.empty()) return all;
  // FPS before and after, from the resource plan of the graph with the tensor in 16 bits.
  const hwarch::PlanOptions popts;
  const double before = hwarch::planResources(g, arch, popts).fps;
  Graph what = g;
  for (NoiseSuggestion& s : all) {
    s.fpsBefore = before;
    const auto bits = bitsWithLifted(g, {s.layer});
    for (size_t i = 0; i < bits.size(); ++i)
      if (!what.layers[i].outputQuant.empty()) what.layers[i].outputQuant[0].bits = bits[i];
    s.fpsAfter = hwarch::planResources(what, arch, popts).fps;
    for (size_t i = 0; i < bits.size(); ++i)
      if (!what.layers[i].outputQuant.empty())
        what.layers[i].outputQuant[0].bits = g.layers[i].outputQuant[0].bits;
  }
  return all;
}

std::string suggestionTable(const std::vector<NoiseSuggestion>& list, const std::string& arch) {
  if (list.empty())
    return "No single tensor lifted to 16 bits improves an output by more than 0.01 dB.\n";
  std::string t = fmt::format(
      "Suggestions (lift one tensor to 16 bits; gain at the output it helps most; FPS on {}):\n",
      arch);
  for (const auto& s : list)
    t += fmt::format("  {:<58} {:+6.2f} dB at {:<16} +{} B act, FPS {:.0f} -> {:.0f}\n", s.line,
                     s.gainDb, s.output, s.activationBytes, s.fpsBefore, s.fpsAfter);
  t += "Paste lines into the model script (.alls) and run kiln optimize again; "
       "kiln optimize --target-snr picks them for you.\n";
  return t;
}

}  // namespace kiln::noise
