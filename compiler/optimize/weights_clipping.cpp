// weights_clipping (weights_clipping.h): fixed bounds from the script, or per-channel bounds of
// least squared quantization error.
#include "compiler/optimize/weights_clipping.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "compiler/quant/quant_math.h"

namespace kiln::optimize {

namespace {

bool hasWeights(const Layer& l) {
  return l.type == LayerType::Conv || l.type == LayerType::Dw || l.type == LayerType::Deconv ||
         l.type == LayerType::Fc;
}

size_t channelCount(const Layer& l) {
  return l.param("bias").data.size();
}

// The value at percentile p (0-100) of sorted values, linearly interpolated (numpy's default).
double percentile(const std::vector<float>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double pos = p / 100.0 * double(sorted.size() - 1);
  const size_t i = size_t(std::floor(pos));
  const size_t j = std::min(i + 1, sorted.size() - 1);
  return double(sorted[i]) + (pos - double(i)) * (double(sorted[j]) - double(sorted[i]));
}

}  // namespace

std::string setWeightsClipping(Layer& l, WeightsClipMode mode, double lo, double hi) {
  if (!hasWeights(l))
    throw Error(l.name + " (" + typeWord(l.type) +
                ") has no weights to clip; weights_clipping applies to conv, dw, deconv and fc "
                "layers");
  l.attrs.erase("weights_clip_mode");
  const size_t channels = channelCount(l);
  switch (mode) {
    case WeightsClipMode::Manual:
      break;
    case WeightsClipMode::Percentile: {
      std::vector<float> w = l.param("kernel").data;
      std::sort(w.begin(), w.end());
      const double plo = percentile(w, lo), phi = percentile(w, hi);
      lo = std::min(plo, 0.0);  // the grid is symmetric around 0: keep 0 inside
      hi = std::max(phi, 0.0);
      break;
    }
    case WeightsClipMode::Mmse:
    case WeightsClipMode::MmseIf4b:
      l.attrs["weights_clip_mode"] =
          std::string(mode == WeightsClipMode::Mmse ? "mmse" : "mmse_if4b");
      l.attrs.erase("weights_clip_lo");
      l.attrs.erase("weights_clip_hi");
      return fmt::format("{}: weights clipped at the bound of least squared error per channel{}",
                         l.name,
                         mode == WeightsClipMode::MmseIf4b ? " if its weights are 4-bit" : "");
  }
  l.attrs["weights_clip_lo"] = std::vector<double>(channels, lo);
  l.attrs["weights_clip_hi"] = std::vector<double>(channels, hi);
  return fmt::format("{}: weights clipped to [{:.6g}, {:.6g}]", l.name, lo, hi);
}

double mmseClipBound(const float* w, size_t n, size_t stride, int64_t qmax) {
  double maxAbs = 0;
  for (size_t i = 0; i < n; ++i) maxAbs = std::max(maxAbs, double(std::fabs(w[i * stride])));
  if (maxAbs == 0) return 0;
  double best = maxAbs, bestErr = -1;
  for (int k = 0; k <= 80; ++k) {
    const double t = maxAbs * (1.0 - k / 100.0);
    const double s = t / double(qmax);
    double err = 0;
    for (size_t i = 0; i < n; ++i) {
      const double x = double(w[i * stride]);
      const double q = std::clamp(double(std::llround(x / s)), -double(qmax), double(qmax));
      err += (x - s * q) * (x - s * q);
    }
    if (bestErr < 0 || err < bestErr) best = t, bestErr = err;
  }
  return best;
}

std::vector<std::string> resolveWeightsClipping(Graph& g, const quant::PrepareOptions& precision) {
  std::vector<std::string> lines;
  for (size_t id = 0; id < g.layers.size(); ++id) {
    Layer& l = g.layers[id];
    if (!l.hasAttr("weights_clip_mode")) continue;
    const std::string mode = l.attrString("weights_clip_mode");
    const auto p = precision.precision.find(int(id));
    const int bits = p == precision.precision.end() ? 8 : p->second.mode.w;
    l.attrs.erase("weights_clip_mode");
    if (mode == "mmse_if4b" && bits > 4) {
      lines.push_back(fmt::format(
          "{}: weights_clipping mode=mmse_if4b: {}-bit weights, not clipped", l.name, bits));
      continue;
    }
    const std::vector<int64_t> ch = quant::weightChannels(l, l.param("kernel"));
    const std::vector<float>& k = l.param("kernel").data;
    const size_t channels = channelCount(l);
    // Each channel's weights, gathered (their layout differs between conv, fc and deconv).
    std::vector<std::vector<float>> per(channels);
    for (size_t i = 0; i < k.size(); ++i) per[size_t(ch[i])].push_back(k[i]);
    std::vector<double> lo(channels), hi(channels);
    double ratio = 0;
    int counted = 0;
    for (size_t c = 0; c < channels; ++c) {
      const double t = mmseClipBound(per[c].data(), per[c].size(), 1, quant::weightQmax(bits));
      lo[c] = -t;
      hi[c] = t;
      double maxAbs = 0;
      for (float v : per[c]) maxAbs = std::max(maxAbs, double(std::fabs(v)));
      if (maxAbs > 0) ratio += t / maxAbs, ++counted;
    }
    l.attrs["weights_clip_lo"] = lo;
    l.attrs["weights_clip_hi"] = hi;
    lines.push_back(fmt::format(
        "{}: weights_clipping mode={}: each channel clipped at its bound of least squared error "
        "({}-bit weights), {:.3f} of max|w| on average over {} channel(s)",
        l.name, mode, bits, counted ? ratio / counted : 1.0, channels));
  }
  return lines;
}

}  // namespace kiln::optimize
