#include "optimize/optimizer.h"

#include <fmt/core.h>

#include "alls/alls.h"
#include "calib/calib_set.h"
#include "common/npy.h"
#include "optimize/equalization.h"
#include "optimize/noise_report.h"
#include "optimize/script_apply.h"
#include "quant/prepare.h"
#include "util/strings.h"

namespace kiln::opt {

namespace {

std::string readText(const std::string& path) {
  try {
    const auto b = npy::readFile(path);
    return std::string(b.begin(), b.end());
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
    for (size_t k = 0; k < ids.size(); ++k) bufs.push_back({g.at(ids[k]).attrInts("user_shape"), sample[k]});
    out.push_back(std::move(bufs));
  }
  return out;
}

}  // namespace

Archive optimize(const Archive& parsed, const OptimizeOptions& o) {
  for (const auto& s : parsed.stages)
    if (s == "optimize")
      throw Error("the archive is already optimized; run kiln optimize on the parsed archive "
                  "(the output of kiln parser)");
  Archive a = parsed;
  Graph& g = a.graph;
  std::string scriptText;
  const alls::Script script = loadScript(o, scriptText);
  const ScriptSettings settings = applyScript(g, script);
  for (const auto& w : settings.notApplied) o.warn(w);
  if (settings.optimizationLevel >= 0) {
    const int pairs = equalizeLayers(g);
    o.info(fmt::format("optimization level {}: equalized {} layer pair(s){}", settings.optimizationLevel, pairs,
                       settings.optimizationLevel >= 1 ? ", bias correction on" : ""));
  }
  if (settings.optimizationLevel >= 2)
    o.warn("optimization levels 2-4 (fine-tuning, AdaRound) are not implemented");

  // Calibration data in the network inputs' own layout.
  std::vector<calib::InputSpec> specs;
  for (int id : g.inputLayers()) specs.push_back({g.at(id).attrString("onnx_name"), g.at(id).attrInts("user_shape")});
  const int want = o.calibSizeOverride > 0 ? o.calibSizeOverride : settings.calibsetSize;
  calib::CalibSet set = o.randomCalib ? calib::randomCalibSet(specs, size_t(want), 0)
                                      : calib::loadCalibSet(o.calibPath, specs, size_t(want));
  for (const auto& w : set.warnings) o.warn(w);
  if (set.random)
    o.warn("calibrating on random data (--use-random-calib-set): the ranges, and so the accuracy, mean nothing");
  if (settings.normalizes && calib::looksNormalized(set))
    o.warn("the script adds normalization, but the calibration data already lies within [-3, 3]: is it "
           "normalized twice? After a script normalization the network takes raw 0-255 pixels");
  o.info(set.description);
  const auto samples = toBuffers(set, g);

  quant::CalibStats stats = quant::collectStats(g, samples, o.progress);
  quant::PrepareOptions popts;
  popts.output16 = settings.output16;
  popts.biasCorrection = settings.optimizationLevel >= 1;
  for (const auto& [name, p] : settings.precision) popts.precision[g.find(name)] = p;
  for (const auto& [name, r] : settings.forceRangeOut) {
    const int id = g.find(name);
    stats.out[id] = {r.first, r.second};
    stats.pre[id] = {r.first, r.second};
  }
  for (const auto& [name, r] : settings.forceRangeIn)
    for (const ValueRef& v : g.at(g.find(name)).inputs) stats.out[v.layer] = {r.first, r.second};
  quant::prepareQuantization(g, stats, popts);

  const size_t n = std::min(samples.size(), size_t(std::max(1, o.reportSamples)));
  const NoiseReport report = noiseReport(g, {samples.begin(), samples.begin() + n});
  o.info(report.summary);
  for (const auto& w : report.warnings) o.warn(w);

  nlohmann::json rj = report.json;
  rj["calibration"] = {{"description", set.description}, {"samples", set.samples.size()}, {"random", set.random}};
  rj["script"] = o.scriptPath;
  rj["applied"] = settings.applied;
  rj["not_applied"] = settings.notApplied;
  a.stages.push_back("optimize");
  const std::string reportText = rj.dump(2) + "\n";
  a.extra["optimize/report.json"] = std::vector<uint8_t>(reportText.begin(), reportText.end());
  if (!scriptText.empty()) a.extra["optimize/script.alls"] = std::vector<uint8_t>(scriptText.begin(), scriptText.end());
  return a;
}

}  // namespace kiln::opt
