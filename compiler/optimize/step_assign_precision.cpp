// Step "assign precision": each layer's precision mode, from the script's precision_mode lines and
// compression_level (4-bit weights for the least sensitive layers), and 16-bit outputs.
#include <cmath>
#include <map>

#include <fmt/core.h>

#include "compiler/optimize/optimize_steps.h"

namespace kiln::optimize {

namespace {

// compression_level: the layers (least sensitive first: highest weight SNR at 4 bits) that put
// `fraction` of all weights in 4 bits. Layers the script set explicitly are left alone.
std::vector<int> choose4BitLayers(const Graph& g, double fraction,
                                  const std::map<int, quant::LayerPrecision>& explicitPrecision) {
  struct Candidate {
    int id;
    double snr;
    int64_t weights;
  };
  std::vector<Candidate> cands;
  int64_t total = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (!hasWeights(l.type)) continue;
    const Tensor& k = l.param("kernel");
    total += k.numel();
    if (explicitPrecision.count(int(i))) continue;
    const int64_t channels = l.type == LayerType::Fc ? k.shape[1] : k.shape[0];
    auto channelOf = [&](int64_t j) {
      return l.type == LayerType::Fc ? j % k.shape[1] : j / (k.numel() / k.shape[0]);
    };
    std::vector<double> maxAbs(size_t(channels), 0.0);
    for (int64_t j = 0; j < k.numel(); ++j)
      maxAbs[channelOf(j)] = std::max(maxAbs[channelOf(j)], double(std::fabs(k.data[j])));
    double signal = 0, noise = 0;
    for (int64_t j = 0; j < k.numel(); ++j) {
      const double m = maxAbs[channelOf(j)], step = m > 0 ? m / 7.0 : 1.0, v = k.data[j];
      signal += v * v;
      const double d = std::round(v / step) * step - v;
      noise += d * d;
    }
    cands.push_back({int(i), noise > 0 ? signal / noise : 1e30, k.numel()});
  }
  std::stable_sort(cands.begin(), cands.end(),
                   [](const Candidate& a, const Candidate& b) { return a.snr > b.snr; });
  std::vector<int> chosen;
  int64_t inFourBits = 0;
  for (const Candidate& c : cands) {
    if (double(inFourBits) >= fraction * double(total) - 0.5) break;
    chosen.push_back(c.id);
    inFourBits += c.weights;
  }
  return chosen;
}

}  // namespace

void stepAssignPrecision(OptimizeState& s) {
  const ScriptSettings& st = s.settings;
  const Graph& g = s.graph();
  quant::PrepareOptions& popts = s.precision;
  popts.output16 = st.output16;
  for (const auto& [name, p] : st.precision) popts.precision[g.find(name)] = p;
  if (st.compressionLevel > 0) {
    const auto chosen = choose4BitLayers(g, st.compressionLevel * 0.2, popts.precision);
    for (int id : chosen) {
      quant::LayerPrecision p;
      quant::parsePrecisionMode("a8_w4", p.mode);
      p.source = "compression_level=" + std::to_string(st.compressionLevel);
      popts.precision[id] = p;
    }
    s.options.info(fmt::format("compression level {}: {} layer(s) with 4-bit weights",
                               st.compressionLevel, chosen.size()));
  }
}

}  // namespace kiln::optimize
