#include "compiler/optimize/sequential_correction.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "compiler/emulator/quant_executor.h"
#include "compiler/emulator/quant_layer.h"
#include "compiler/optimize/error_rounding.h"
#include "compiler/quant/prepare.h"

namespace kiln::optimize {

namespace {

bool correctable(const Layer& l) {
  if (!hasWeights(l.type)) return false;
  if (!l.qparams.count("bias") || !l.qparams.count("kernel") || l.qparams.count("stage_lut") ||
      !l.qparams.count("stage_misc"))
    return false;
  switch (l.activation.kind) {
    case ActKind::None:
    case ActKind::Relu:
    case ActKind::Relu6:
    case ActKind::Clip:
    case ActKind::LeakyRelu:
    case ActKind::PRelu:
      return true;
    default:
      return false;
  }
}

// Per output channel mean of (dequantized - float) over the positions where neither output is
// clamped (by the activation or the output range), i.e. where the output error is the
// pre-activation error, and the float output is >= `floor`; leaky/prelu: positive side only.
// Channels with too few such positions are not measured (nullopt).
std::vector<std::optional<double>> meanError(const Layer& l, const std::vector<IntBuffer>& q,
                                             const std::vector<FloatBuffer>& f, int64_t channels,
                                             double floor) {
  const QuantInfo& out = l.outputQuant.at(0);
  const auto& misc = l.qparams.at("stage_misc").data;
  const int64_t zp = misc[0], qmin = misc[1], qmax = misc[2];
  const double lo = double(qmin - zp) * out.scale, hi = double(qmax - zp) * out.scale;
  const bool positiveOnly =
      l.activation.kind == ActKind::LeakyRelu || l.activation.kind == ActKind::PRelu;
  std::vector<double> sum(size_t(channels), 0.0), sampleMeans(size_t(channels), 0.0),
      sampleMeanSq(size_t(channels), 0.0);
  std::vector<int64_t> count(size_t(channels), 0), samplesSeen(size_t(channels), 0);
  for (size_t s = 0; s < q.size(); ++s) {
    const std::vector<double> sum0 = sum;
    const std::vector<int64_t> count0 = count;
    const Shape& sh = q[s].shape;
    if (sh != f[s].shape || sh.size() < 2 || sh[1] != channels)
      return std::vector<std::optional<double>>(size_t(channels));
    int64_t inner = 1;
    for (size_t d = 2; d < sh.size(); ++d) inner *= sh[d];
    const size_t n = q[s].data.size();
    // Element i = (b * channels + c) * inner + k, visited in order (no division per element).
    for (size_t i0 = 0; i0 < n; i0 += size_t(inner)) {
      const size_t c = (i0 / size_t(inner)) % size_t(channels);
      const size_t i1 = std::min(n, i0 + size_t(inner));
      for (size_t i = i0; i < i1; ++i) {
        const int64_t v = q[s].data[i];
        const double yf = f[s].data[i];
        if (v <= qmin || v >= qmax || !(yf > lo && yf < hi) || yf < floor) continue;
        const double yq = double(v - zp) * out.scale;
        if (positiveOnly && (yq <= 0 || yf <= 0)) continue;
        sum[c] += yq - yf;
        ++count[c];
      }
    }
    for (size_t c = 0; c < sum.size(); ++c) {
      const int64_t k = count[c] - count0[c];
      if (k == 0) continue;
      const double m = (sum[c] - sum0[c]) / double(k);
      sampleMeans[c] += m;
      sampleMeanSq[c] += m * m;
      ++samplesSeen[c];
    }
  }
  std::vector<std::optional<double>> mean(static_cast<size_t>(channels));
  for (size_t c = 0; c < mean.size(); ++c)
    if (count[c] >= 16 && samplesSeen[c] >= 2) {
      // Shrunk toward 0 by its uncertainty (se: the spread of the per-sample means), to
      // m (1 - (2 se / m)^2), none below 2 se: a correction within twice its standard error is
      // mostly noise of the few samples measured.
      const double k = double(samplesSeen[c]), m = sum[c] / double(count[c]);
      const double mu = sampleMeans[c] / k;
      const double var = std::max(0.0, (sampleMeanSq[c] / k - mu * mu) * k / (k - 1));
      const double se2 = var / k;
      const double shrink = m != 0 ? std::max(0.0, 1.0 - 4.0 * se2 / (m * m)) : 0.0;
      mean[c] = m * shrink;
    }
  return mean;
}

}  // namespace

CorrectionResult sequentialCorrection(Graph& g,
                                      const std::vector<std::vector<FloatBuffer>>& samples,
                                      const CorrectionOptions& opts) {
  CorrectionResult result;
  const size_t n = g.layers.size(), S = samples.size();
  if (S == 0) return result;
  std::vector<char> target(n, 0);
  for (size_t i = 0; i < n; ++i) target[i] = opts.biasCorrection && correctable(g.layers[i]);
  // Float reference outputs of the layers to correct.
  std::vector<std::vector<FloatBuffer>> ref(S, std::vector<FloatBuffer>(n));
  const bool anyTarget = std::find(target.begin(), target.end(), 1) != target.end();
  std::vector<FloatBuffer> all;  // every layer's output, storage reused from sample to sample
  for (size_t s = 0; anyTarget && s < S; ++s) {
    runFloatAllLayers(g, samples[s], all);
    for (size_t i = 0; i < n; ++i)
      if (target[i]) ref[s][i] = all[i];
  }
  all = {};
  // The quantized network, run layer by layer on all samples at once, so that each layer is
  // measured with the corrected biases of the layers before it.
  std::vector<int> lastUse(n, -1);
  for (size_t i = 0; i < n; ++i)
    for (const ValueRef& v : g.layers[i].inputs) lastUse[v.layer] = int(i);
  std::vector<std::vector<IntBuffer>> buf(n, std::vector<IntBuffer>(S));
  const auto inIds = g.inputLayers();
  for (size_t k = 0; k < inIds.size(); ++k) {
    const Layer& l = g.at(inIds[k]);
    for (size_t s = 0; s < S; ++s) {
      const FloatBuffer& x0 = samples[s].at(k);
      const FloatBuffer x = l.hasAttr("perm") ? transposeBuffer(x0, l.attrInts("perm")) : x0;
      buf[inIds[k]][s] = quantizeInput(x, l.outputQuant[0]);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    Layer& l = g.layers[i];
    if (l.type == LayerType::InputLayer) continue;
    auto runAll = [&] {
      QuantLayerRunner runner(g, l);  // lowered once, with the layer's current biases
      for (size_t s = 0; s < S; ++s) {
        std::vector<const IntBuffer*> in;
        for (const ValueRef& v : l.inputs) in.push_back(&buf[v.layer][s]);
        runner.run(in, buf[i][s]);
      }
    };
    if (opts.compensateRounding && (l.type == LayerType::Conv || l.type == LayerType::Dw)) {
      const ValueRef src = l.inputs[0];
      std::vector<const IntBuffer*> in;
      for (size_t s = 0; s < S; ++s) in.push_back(&buf[src.layer][s]);
      const RoundingResult r =
          compensateRounding(l, g.at(src.layer).outputQuant.at(size_t(src.port)), in);
      if (r.applied) {
        ++result.rounded;
        result.nearestError += r.nearestError;
        result.chosenError += r.chosenError;
      }
    }
    runAll();
    if (target[i]) {
      IntTensor& bias = l.qparams.at("bias");
      const int64_t channels = int64_t(bias.data.size());
      std::vector<FloatBuffer> f(S);
      for (size_t s = 0; s < S; ++s) f[s] = std::move(ref[s][i]);
      // Measured in the decision zone when the layer has one, else (or for a channel with too
      // few positions there) over all positions.
      const double floor =
          i < opts.zoneFloor.size() ? opts.zoneFloor[i] : -std::numeric_limits<double>::infinity();
      auto mean = meanError(l, buf[i], f, channels, -std::numeric_limits<double>::infinity());
      if (std::isfinite(floor)) {
        const auto zone = meanError(l, buf[i], f, channels, floor);
        for (size_t c = 0; c < mean.size(); ++c)
          if (zone[c]) mean[c] = zone[c];
      }
      const ValueRef src = l.inputs[0];
      const double inScale = g.at(src.layer).outputQuant.at(size_t(src.port)).scale;
      const auto accScale = quant::linearAccScale(l, inScale, l.qparams.at("kernel").bits);
      bool changed = false;
      for (int64_t c = 0; c < channels; ++c) {
        if (!mean[size_t(c)]) continue;
        const int64_t d = std::llround(*mean[size_t(c)] / accScale[size_t(c)]);
        if (d == 0) continue;
        bias.data[size_t(c)] -= d;
        changed = true;
      }
      if (changed) {
        ++result.biasCorrected;
        if (std::isfinite(floor)) ++result.zoneCorrected;
        runAll();
      }
    }
    for (const ValueRef& v : l.inputs)
      if (lastUse[v.layer] == int(i)) buf[v.layer] = std::vector<IntBuffer>(S);
  }
  return result;
}

std::vector<double> decisionZoneFloors(const std::vector<bool>& decision,
                                       const std::vector<std::pair<double, double>>& calibrated) {
  std::vector<double> floor(decision.size(), -std::numeric_limits<double>::infinity());
  for (size_t i = 0; i < decision.size() && i < calibrated.size(); ++i) {
    const auto [lo, hi] = calibrated[i];
    if (decision[i] && hi > 0 && lo < -hi) floor[i] = -hi;
  }
  return floor;
}

}  // namespace kiln::optimize
