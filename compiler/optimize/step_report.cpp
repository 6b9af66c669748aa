// Step "report": the noise report (quantized vs float on the first calibration samples), with
// each layer's calibrated range and range method, the calibration set and the script's applied
// and not-applied lines; stored in the archive (optimize/report.json, optimize/script.alls),
// which is marked optimized.
#include <fmt/core.h>

#include "compiler/archive/json_text.h"
#include "compiler/optimize/noise_report.h"
#include "compiler/optimize/optimize_steps.h"

namespace kiln::optimize {

void stepReport(OptimizeState& s) {
  const OptimizeOptions& o = s.options;
  const Graph& g = s.graph();
  const size_t n = s.reportSampleCount();
  const NoiseReport report =
      noiseReport(g, {s.samples.begin(), s.samples.begin() + n}, o.reportProgress);
  o.info(report.summary);
  for (const auto& w : report.warnings) o.warn(w);

  nlohmann::json& rj = s.report;
  rj = report.json;
  // Per layer: the calibrated min/max and how the range used was chosen (a layer that keeps its
  // input's quantization, e.g. maxpool, reports its own calibrated range and "min_max").
  for (auto& lj : rj["layers"]) {
    const size_t id = size_t(g.find(lj["layer"].get<std::string>()));
    const quant::Range& c = s.calibrated[id];
    lj["calibrated_range"] = c.valid() ? nlohmann::json{c.min, c.max} : nlohmann::json(nullptr);
    lj["range_method"] = rangeMethodName(s.rangeMethod[id]);
    if (s.rangeMethod[id] == RangeMethod::Mse) {
      lj["clipped_fraction"] = s.chosen[id].clipped;
      const bool perChannel = id < s.perChannelRange.size() && s.perChannelRange[id];
      lj[perChannel ? "expected_channel_relative_error" : "expected_mse"] = {
          {"min_max", s.chosen[id].mseMinMax}, {"chosen", s.chosen[id].mse}};
    }
    if (id < s.decision.size() && s.decision[id]) lj["decision_tensor"] = true;
    // The saturation bound the range was searched within (quant/saturation.h); for these layers
    // clipped_fraction and expected_mse count the values beyond it as at its ends.
    if (id < s.saturation.size() && s.saturation[id].valid())
      lj["saturation_bound"] = {s.saturation[id].min, s.saturation[id].max};
    if (s.chosen[id].positiveSideShort && s.rangeMethod[id] != RangeMethod::NotOwn)
      lj["positive_side_short"] = true;
  }
  // Ranges that exclude most of a sign that matters (step_check_ranges.cpp), also warned.
  nlohmann::json findings = nlohmann::json::array();
  for (const RangeFinding& f : s.rangeFindings)
    findings.push_back({{"layer", f.layer},
                        {"sign", f.sign},
                        {"decision_tensor", f.decision},
                        {"sign_share", f.share},
                        {"clipped", f.clipped},
                        {"quantized_to_zero", f.lost},
                        {"range", {f.range.first, f.range.second}},
                        {"message", f.message}});
  rj["range_findings"] = findings;
  if (!s.rangeFindings.empty())
    o.info(
        fmt::format("range check: {} range(s) exclude most of a sign that matters (warnings "
                    "above; report field \"range_findings\")",
                    s.rangeFindings.size()));
  const calib::CalibSet& set = s.calibSet;
  rj["calibration"] = {
      {"description", set.description}, {"samples", s.samples.size()}, {"random", set.random}};
  rj["script"] = o.scriptPath;
  rj["applied"] = s.settings.applied;
  rj["not_applied"] = s.settings.notApplied;
  rj["accepted"] = s.settings.accepted;
  Archive& a = s.archive;
  a.stages.push_back("optimize");
  const std::string reportText = jsonText(rj, 2) + "\n";
  a.extra["optimize/report.json"] = std::vector<uint8_t>(reportText.begin(), reportText.end());
  if (!s.settings.nms.empty()) a.extra["optimize/nms"] = s.settings.nms;
  if (!s.scriptText.empty())
    a.extra["optimize/script.alls"] =
        std::vector<uint8_t>(s.scriptText.begin(), s.scriptText.end());
}

}  // namespace kiln::optimize
