// Step "select ranges": the calibration statistics of the equalized graph and the range each
// layer output is quantized to, in two parts: the ranges the script sets (activation_clipping,
// force_range_out, force_range_in), then, once the precision is known, the least-error range of
// every other 8-bit tensor (docs/arithmetic.md §1): per tensor, or, for a tensor read channel by
// channel by depthwise convolutions, serving each channel's own SNR.
#include <fmt/core.h>

#include "compiler/optimize/optimize_steps.h"
#include "compiler/quant/channel_range.h"
#include "compiler/quant/decision_tensors.h"
#include "compiler/quant/outliers.h"
#include "compiler/quant/saturation.h"

namespace kiln::optimize {

void stepSelectRanges(OptimizeState& s) {
  const ScriptSettings& st = s.settings;
  Graph& g = s.graph();
  // Range selection (optimization level >= 0) needs histograms of every layer output, from which
  // each 8-bit tensor gets the range of least expected quantization error.
  quant::StatsOptions statsOpts;
  statsOpts.channelAbsMax = false;
  statsOpts.histograms = s.selectRanges;
  for (const auto& [name, c] : st.activationClipping)
    if (c.percentile) statsOpts.sampleLayers.insert(g.find(name));
  // Tensors read channel by channel (by depthwise convolutions) also get per-channel histograms:
  // their range serves each channel's own SNR (quant/channel_range.h).
  if (s.selectRanges) {
    const std::vector<bool> channelRead = quant::channelReadTensors(g);
    for (size_t i = 0; i < channelRead.size(); ++i)
      if (channelRead[i] && g.layers[i].type != LayerType::InputLayer)
        statsOpts.channelLayers.insert(int(i));
  }
  s.stats = quant::collectStats(g, s.samples, statsOpts, s.options.progress);
  for (const auto& w : quant::rangeOutlierWarnings(g, s.stats)) s.options.warn(w);
  s.calibrated = s.stats.out;
  s.rangeMethod.assign(g.layers.size(), RangeMethod::MinMax);
  s.chosen.assign(g.layers.size(), quant::RangeChoice{});
  for (const auto& [name, c] : st.activationClipping) {
    const int id = g.find(name);
    s.rangeMethod[size_t(id)] = RangeMethod::ActivationClipping;
    double lo = c.lo, hi = c.hi;
    if (c.percentile) {
      lo = quant::percentile(s.stats.values[id], c.lo);
      hi = quant::percentile(s.stats.values[id], c.hi);
    }
    s.stats.out[id] = {lo, hi};
    s.options.info(fmt::format("activation clipping: {} range [{:.4g}, {:.4g}]", name, lo, hi));
  }
  for (const auto& [name, r] : st.forceRangeOut) {
    const int id = g.find(name);
    // The output grid only: a table activation's input span stays the calibrated
    // pre-activation range (stats.pre), which only table activations read.
    s.stats.out[id] = {r.first, r.second};
    s.rangeMethod[size_t(id)] = RangeMethod::ForceRangeOut;
  }
  for (const auto& [name, r] : st.forceRangeIn)
    for (const ValueRef& v : g.at(g.find(name)).inputs) {
      s.stats.out[v.layer] = {r.first, r.second};
      s.rangeMethod[size_t(v.layer)] = RangeMethod::ForceRangeIn;
    }
}

void stepSelectLeastErrorRanges(OptimizeState& s) {
  const Graph& g = s.graph();
  s.decision = quant::decisionTensors(g);
  s.saturation.assign(g.layers.size(), quant::Range{});
  s.perChannelRange.assign(g.layers.size(), false);
  if (!s.selectRanges) return;
  // 8-bit tensors whose range the script does not set get the range of least expected error
  // (16 bits keep min/max: their rounding noise is negligible). Decision tensors keep their
  // upper end and a positive side of kDecisionPositiveLevels steps (range_selection.h).
  const std::vector<int> bits = quant::assignBits(g, s.precision);
  auto optsFor = [&](size_t i) {
    quant::RangeSearch opts;
    if (s.decision[i]) {
      opts.keepTop = true;
      opts.minPositiveLevels = quant::kDecisionPositiveLevels;
    }
    return opts;
  };
  std::vector<bool> selectable(g.layers.size(), false);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    if (s.rangeMethod[i] != RangeMethod::MinMax || s.stats.hist[i].empty() || bits[i] != 8)
      continue;
    selectable[i] = true;
    // Read by convolutions only, at least one depthwise: the range serves each channel's own
    // SNR (quant/channel_range.h). Decision tensors keep their own rules.
    const auto ch = s.stats.channels.find(int(i));
    if (ch != s.stats.channels.end() && !s.decision[i]) {
      s.chosen[i] = quant::selectChannelRange(ch->second, s.stats.out[i], 8);
      s.perChannelRange[i] = true;
    } else {
      s.chosen[i] = quant::selectRange(s.stats.hist[i], s.stats.out[i], 8, optsFor(i));
    }
    if (!s.chosen[i].changed) continue;
    s.stats.out[i] = {s.chosen[i].lo, s.chosen[i].hi};
    s.rangeMethod[i] = RangeMethod::Mse;
  }
  // A tensor read only by saturating activations (a sigmoid's input) spends no steps where those
  // activations' outputs no longer change: its search runs within the saturation bound, the
  // values beyond counting as if at the bound (with the activations' final output grids).
  const std::vector<quant::Range> bound =
      quant::saturationBounds(g, s.calibrated, s.stats.out, bits);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    if (!selectable[i] || !bound[i].valid()) continue;
    const quant::Range& c = s.calibrated[i];
    const quant::Range within{std::max(c.min, bound[i].min), std::min(c.max, bound[i].max)};
    if (!within.valid() || (within.min == c.min && within.max == c.max)) continue;
    s.saturation[i] = within;
    s.perChannelRange[i] = false;
    s.chosen[i] = quant::selectRange(s.stats.hist[i], within, 8, optsFor(i));
    s.chosen[i].changed = true;
    s.stats.out[i] = {s.chosen[i].lo, s.chosen[i].hi};
    s.rangeMethod[i] = RangeMethod::Mse;
  }
}

}  // namespace kiln::optimize
