#include "compiler/optimize/optimizer.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/core.h>

#include "alls/alls.h"
#include "calib/calib_set.h"
#include "common/file_io.h"
#include "common/npy.h"
#include "common/strings.h"
#include "compiler/optimize/equalization.h"
#include "compiler/optimize/noise_report.h"
#include "compiler/optimize/script_apply.h"
#include "compiler/optimize/sequential_correction.h"
#include "compiler/quant/prepare.h"
#include "compiler/quant/range_selection.h"

namespace kiln::optimize {

namespace {

std::string readText(const std::string& path) {
  try {
    return files::readText(path);
  } catch (const npy::NpyError& e) {
    throw Error(e.what());
  }
}

alls::Script loadScript(const OptimizeOptions& o, std::string& text) {
  if (o.scriptPath.empty()) return {};
  text = readText(o.scriptPath);
  alls::Script script = alls::parseScript(text, o.scriptPath);
  const auto diags = alls::validateScript(script);
  std::string errors;
  for (const auto& d : diags) {
    const bool error = d.severity == alls::Diagnostic::Error || o.strict;
    if (error) {
      alls::Diagnostic e = d;
      e.severity = alls::Diagnostic::Error;
      errors += alls::formatDiagnostic(e) + "\n";
    } else {
      o.warn(alls::formatDiagnostic(d));
    }
  }
  if (!errors.empty()) {
    errors.pop_back();
    throw Error(errors + (o.strict ? "\n(--strict: commands Kiln does not apply are errors)" : ""));
  }
  return script;
}

std::vector<std::vector<FloatBuffer>> toBuffers(const calib::CalibSet& set, const Graph& g) {
  std::vector<std::vector<FloatBuffer>> out;
  const auto ids = g.inputLayers();
  for (const auto& sample : set.samples) {
    std::vector<FloatBuffer> bufs;
    for (size_t k = 0; k < ids.size(); ++k)
      bufs.push_back({g.at(ids[k]).attrInts("user_shape"), sample[k]});
    out.push_back(std::move(bufs));
  }
  return out;
}

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
    if (l.type != LayerType::Conv && l.type != LayerType::Dw && l.type != LayerType::Fc &&
        l.type != LayerType::Deconv)
      continue;
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

Archive optimize(const Archive& parsed, const OptimizeOptions& o) {
  for (const auto& s : parsed.stages)
    if (s == "optimize")
      throw Error(
          "the archive is already optimized; run kiln optimize on the parsed archive "
          "(the output of kiln parser)");
  Archive a = parsed;
  Graph& g = a.graph;
  std::string scriptText;
  o.stepStarted("script");
  const alls::Script script = loadScript(o, scriptText);
  const ScriptSettings settings = applyScript(g, script);
  for (const auto& w : settings.notApplied) o.warn(w);
  const bool biasCorrection =
      settings.biasCorrection >= 0 ? settings.biasCorrection == 1 : settings.optimizationLevel >= 1;
  const bool compensateRounding = settings.optimizationLevel >= 2;
  if (settings.optimizationLevel >= 3)
    o.warn(fmt::format(
        "optimization level {}: fine-tuning is not implemented; this runs level 2 (level 1 + "
        "error-compensating weight rounding)",
        settings.optimizationLevel));

  // Calibration data in the network inputs' own layout.
  std::vector<calib::InputSpec> specs;
  for (int id : g.inputLayers())
    specs.push_back({g.at(id).attrString("onnx_name"), g.at(id).attrInts("user_shape")});
  o.stepStarted("calibration data");
  const int want = o.calibSizeOverride > 0 ? o.calibSizeOverride : settings.calibsetSize;
  calib::CalibSet set = o.randomCalib ? calib::randomCalibSet(specs, size_t(want), 0)
                                      : calib::loadCalibSet(o.calibPath, specs, size_t(want));
  for (const auto& w : set.warnings) o.warn(w);
  if (set.random)
    o.warn(
        "calibrating on random data (--use-random-calib-set): the ranges, and so the accuracy, "
        "mean nothing");
  if (settings.normalizes && calib::looksNormalized(set))
    o.warn(
        "the script adds normalization, but the calibration data already lies within [-3, 3]: is "
        "it "
        "normalized twice? After a script normalization the network takes raw 0-255 pixels");
  o.info(set.description);
  const auto samples = toBuffers(set, g);
  if (settings.optimizationLevel >= 0 && settings.equalization) {
    // Equalization works on the calibrated per-channel ranges of the original graph (a first,
    // shorter pass over at most 16 samples); the real calibration below sees the equalized graph.
    o.stepStarted("equalization");
    const size_t m = std::min<size_t>(samples.size(), 16);
    quant::StatsOptions eqOpts;
    const quant::CalibStats pre =
        quant::collectStats(g, {samples.begin(), samples.begin() + long(m)}, eqOpts);
    const int pairs = equalizeLayers(g, pre.channelAbsMax);
    o.info(fmt::format(
        "optimization level {}: equalized {} layer pair(s), bias correction {}, weight rounding {}",
        settings.optimizationLevel, pairs, biasCorrection ? "on" : "off",
        compensateRounding ? "error-compensating" : "to nearest"));
  }

  // Range selection (optimization level >= 0): histograms of every layer output, from which
  // each 8-bit tensor gets the range of least expected quantization error.
  const bool selectRanges = settings.optimizationLevel >= 0;
  quant::StatsOptions statsOpts;
  statsOpts.channelAbsMax = false;
  statsOpts.histograms = selectRanges;
  for (const auto& [name, c] : settings.activationClipping)
    if (c.percentile) statsOpts.sampleLayers.insert(g.find(name));
  o.stepStarted("calibration");
  quant::CalibStats stats = quant::collectStats(g, samples, statsOpts, o.progress);
  o.stepStarted("quantization");
  const std::vector<quant::Range> calibrated = stats.out;
  std::vector<std::string> rangeMethod(g.layers.size(), "min_max");
  for (const auto& [name, c] : settings.activationClipping) {
    const int id = g.find(name);
    rangeMethod[size_t(id)] = "activation_clipping";
    double lo = c.lo, hi = c.hi;
    if (c.percentile) {
      lo = quant::percentile(stats.values[id], c.lo);
      hi = quant::percentile(stats.values[id], c.hi);
    }
    stats.out[id] = {lo, hi};
    o.info(fmt::format("activation clipping: {} range [{:.4g}, {:.4g}]", name, lo, hi));
  }
  quant::PrepareOptions popts;
  popts.output16 = settings.output16;
  for (const auto& [name, p] : settings.precision) popts.precision[g.find(name)] = p;
  if (settings.compressionLevel > 0) {
    const auto chosen = choose4BitLayers(g, settings.compressionLevel * 0.2, popts.precision);
    for (int id : chosen) {
      quant::LayerPrecision p;
      quant::parsePrecisionMode("a8_w4", p.mode);
      p.source = "compression_level=" + std::to_string(settings.compressionLevel);
      popts.precision[id] = p;
    }
    o.info(fmt::format("compression level {}: {} layer(s) with 4-bit weights",
                       settings.compressionLevel, chosen.size()));
  }
  for (const auto& [name, r] : settings.forceRangeOut) {
    const int id = g.find(name);
    stats.out[id] = {r.first, r.second};
    stats.pre[id] = {r.first, r.second};
    rangeMethod[size_t(id)] = "force_range_out";
  }
  for (const auto& [name, r] : settings.forceRangeIn)
    for (const ValueRef& v : g.at(g.find(name)).inputs) {
      stats.out[v.layer] = {r.first, r.second};
      rangeMethod[size_t(v.layer)] = "force_range_in";
    }
  std::vector<quant::RangeChoice> chosen(g.layers.size());
  if (selectRanges) {
    // 8-bit tensors whose range the script does not set get the range of least expected error
    // (16 bits keep min/max: their rounding noise is negligible).
    const std::vector<int> bits = quant::assignBits(g, popts);
    for (size_t i = 0; i < g.layers.size(); ++i) {
      if (rangeMethod[i] != "min_max" || stats.hist[i].empty() || bits[i] != 8) continue;
      chosen[i] = quant::selectRange(stats.hist[i], stats.out[i], 8);
      if (!chosen[i].changed) continue;
      stats.out[i] = {chosen[i].lo, chosen[i].hi};
      rangeMethod[i] = "mse";
    }
  }
  quant::prepareQuantization(g, stats, popts);
  if (selectRanges) {
    int changed = 0;
    for (size_t i = 0; i < g.layers.size(); ++i) {
      if (rangeMethod[i] != "mse") continue;
      // Layers that keep their input's quantization (maxpool, reshape, ...) or have a fixed one
      // (softmax) do not use their own range.
      const QuantInfo& q = g.layers[i].outputQuant.at(0);
      if (q.min == std::min(chosen[i].lo, 0.0) && q.max == std::max(chosen[i].hi, 0.0))
        ++changed;
      else
        rangeMethod[i] = "not_own";
    }
    o.info(fmt::format("range selection: {} 8-bit tensor(s) narrowed to their least-error range",
                       changed));
  }

  const size_t n = std::min(samples.size(), size_t(std::max(1, o.reportSamples)));
  if (biasCorrection || compensateRounding) {
    // On up to 16 samples from the end of the calibration set, clear of the first ones the noise
    // report measures on when there are enough.
    o.stepStarted(compensateRounding ? "bias correction and weight rounding" : "bias correction");
    size_t m = std::min<size_t>(samples.size(), 16);
    if (samples.size() >= n + 4) m = std::min(m, samples.size() - n);
    const CorrectionResult r = sequentialCorrection(g, {samples.end() - long(m), samples.end()},
                                                    {biasCorrection, compensateRounding});
    if (compensateRounding)
      o.info(fmt::format(
          "weight rounding: {} layer(s) rounded against their inputs on {} sample(s), output "
          "error from weight rounding {:.1f} dB below rounding to nearest",
          r.rounded, m, r.chosenError > 0 ? 10 * std::log10(r.nearestError / r.chosenError) : 0.0));
    if (biasCorrection)
      o.info(fmt::format("bias correction: {} layer(s) corrected on {} sample(s)", r.biasCorrected,
                         m));
  }

  o.stepStarted("noise report");
  const NoiseReport report =
      noiseReport(g, {samples.begin(), samples.begin() + n}, o.reportProgress);
  o.info(report.summary);
  for (const auto& w : report.warnings) o.warn(w);

  nlohmann::json rj = report.json;
  // Per layer: the calibrated min/max and how the range used was chosen (a layer that keeps its
  // input's quantization, e.g. maxpool, reports its own calibrated range and "min_max").
  for (auto& lj : rj["layers"]) {
    const size_t id = size_t(g.find(lj["layer"].get<std::string>()));
    const quant::Range& c = calibrated[id];
    lj["calibrated_range"] = c.valid() ? nlohmann::json{c.min, c.max} : nlohmann::json(nullptr);
    lj["range_method"] = rangeMethod[id];
    if (rangeMethod[id] == "mse") {
      lj["clipped_fraction"] = chosen[id].clipped;
      lj["expected_mse"] = {{"min_max", chosen[id].mseMinMax}, {"chosen", chosen[id].mse}};
    }
  }
  rj["calibration"] = {
      {"description", set.description}, {"samples", set.samples.size()}, {"random", set.random}};
  rj["script"] = o.scriptPath;
  rj["applied"] = settings.applied;
  rj["not_applied"] = settings.notApplied;
  a.stages.push_back("optimize");
  const std::string reportText = rj.dump(2) + "\n";
  a.extra["optimize/report.json"] = std::vector<uint8_t>(reportText.begin(), reportText.end());
  if (!scriptText.empty())
    a.extra["optimize/script.alls"] = std::vector<uint8_t>(scriptText.begin(), scriptText.end());
  return a;
}

}  // namespace kiln::optimize
