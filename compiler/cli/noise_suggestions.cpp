#include "compiler/cli/noise_suggestions.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "compiler/hwarch/resource_plan.h"

namespace kiln::cli {

namespace {

double round2(double v) {
  return std::round(v * 100) / 100;
}

// The layers that carry tensor `id` on (they keep its quantization): lifted with it.
std::vector<int> carriers(const Graph& g, int id) {
  std::vector<int> ids = {id};
  for (size_t j = size_t(id) + 1; j < g.layers.size(); ++j) {
    const Layer& l = g.layers[j];
    if (l.inputs.empty() || !keepsInputQuantization(l.type)) continue;
    if (std::find(ids.begin(), ids.end(), l.inputs[0].layer) != ids.end() &&
        l.outputQuant.at(0) == g.at(id).outputQuant.at(0))
      ids.push_back(int(j));
  }
  return ids;
}

}  // namespace

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
    for (int id : carriers(g, s.layer))
      if (g.at(id).outputQuant.at(0).bits <= 8)
        s.activationBytes += numel(g.at(id).outputShapes.at(0));
    all.push_back(std::move(s));
  }
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
    const auto ids = carriers(g, s.layer);
    for (int id : ids) what.layers[size_t(id)].outputQuant[0].bits = 16;
    s.fpsAfter = hwarch::planResources(what, arch, popts).fps;
    for (int id : ids) what.layers[size_t(id)].outputQuant[0].bits = g.at(id).outputQuant[0].bits;
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

}  // namespace kiln::cli
