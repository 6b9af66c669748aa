// Finding calibration samples far outside the rest; see outliers.h.
#include "compiler/quant/outliers.h"

#include "common/strings.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

namespace kiln::quant {

namespace {

double absMaxOf(const std::vector<float>& v) {
  double m = 0;
  for (float x : v)
    if (std::isfinite(x)) m = std::max(m, double(std::fabs(x)));
  return m;
}

std::string ratio(const OutlierSamples& o) {
  return "values up to " + shortNumber(o.outlierAbsMax, 3) + " in absolute value, " +
         shortNumber(o.outlierAbsMax / o.restAbsMax, 3) +
         " times the largest of the other samples (" + shortNumber(o.restAbsMax, 3) + ")";
}

}  // namespace

OutlierSamples findOutliers(const std::vector<double>& absMax, double factor) {
  const size_t n = absMax.size();
  OutlierSamples r;
  if (n < kOutlierMinSamples) return r;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return absMax[a] > absMax[b]; });
  const size_t most = std::max<size_t>(1, n / 16);
  for (size_t k = 1; k <= most; ++k) {
    const double rest = absMax[order[k]];
    if (rest > 0 && absMax[order[k - 1]] > factor * rest) {
      r.samples.assign(order.begin(), order.begin() + long(k));
      std::sort(r.samples.begin(), r.samples.end());
      r.outlierAbsMax = absMax[order[0]];
      r.restAbsMax = rest;
      return r;
    }
  }
  return r;
}

std::string sampleList(const std::vector<size_t>& samples) {
  std::string s = samples.size() == 1 ? "sample " : "samples ";
  for (size_t i = 0; i < samples.size() && i < 8; ++i)
    s += (i ? ", " : "") + std::to_string(samples[i]);
  if (samples.size() > 8) s += ", ...";
  return s;
}

std::vector<std::string> dropInputOutliers(std::vector<std::vector<FloatBuffer>>& samples,
                                           const std::vector<std::string>& inputNames) {
  std::vector<std::string> warnings;
  std::vector<bool> drop(samples.size(), false);
  for (size_t k = 0; k < inputNames.size(); ++k) {
    std::vector<double> absMax;
    for (const auto& s : samples) absMax.push_back(absMaxOf(s.at(k).data));
    const OutlierSamples o = findOutliers(absMax, kOutlierDropFactor);
    if (o.samples.empty()) continue;
    for (size_t s : o.samples) drop[s] = true;
    warnings.push_back("calibration: input '" + inputNames[k] + "': " + sampleList(o.samples) +
                       " (0-based) of " + std::to_string(samples.size()) +
                       (o.samples.size() == 1 ? " holds " : " hold ") + ratio(o) +
                       "; left out of calibration, since they alone would set the input's range "
                       "and leave the other samples a fraction of one quantization step. Check "
                       "the calibration data");
  }
  if (warnings.empty()) return warnings;
  std::vector<std::vector<FloatBuffer>> kept;
  for (size_t s = 0; s < samples.size(); ++s)
    if (!drop[s]) kept.push_back(std::move(samples[s]));
  samples = std::move(kept);
  return warnings;
}

std::vector<std::string> rangeOutlierWarnings(const Graph& g, const CalibStats& stats) {
  // Tensors with the same outlier samples are one finding: the first names it.
  std::map<std::vector<size_t>, std::pair<size_t, int>> groups;  // samples -> (first layer, count)
  std::vector<std::pair<std::vector<size_t>, OutlierSamples>> order;
  for (size_t i = 0; i < stats.sampleAbsMax.size() && i < g.layers.size(); ++i) {
    const OutlierSamples o = findOutliers(stats.sampleAbsMax[i], kOutlierWarnFactor);
    if (o.samples.empty()) continue;
    auto [it, fresh] = groups.emplace(o.samples, std::make_pair(i, 0));
    ++it->second.second;
    if (fresh) order.emplace_back(o.samples, o);
  }
  std::vector<std::string> warnings;
  constexpr size_t kMax = 5;
  for (size_t j = 0; j < order.size() && j < kMax; ++j) {
    const auto& [samples, o] = order[j];
    const auto [first, count] = groups.at(samples);
    const Layer& l = g.layers[first];
    const std::string what = l.type == LayerType::InputLayer
                                 ? "input '" + l.attrString("onnx_name") + "'"
                                 : "layer " + l.name;
    warnings.push_back(
        "calibration: the range of " + what +
        (count > 1 ? " (and of " + std::to_string(count - 1) + " later tensor(s))" : "") +
        " is set by " + sampleList(samples) + " (0-based) of " + std::to_string(stats.samples) +
        ": " + ratio(o) +
        "; the other samples use a fraction of its grid. Check those samples, or set the range "
        "in the model script (quantization_param force_range_out, activation_clipping)");
  }
  if (order.size() > kMax)
    warnings.push_back("calibration: ... and " + std::to_string(order.size() - kMax) +
                       " more group(s) of tensors whose range a handful of samples set");
  return warnings;
}

}  // namespace kiln::quant
