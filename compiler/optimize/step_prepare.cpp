// Step "prepare": every tensor's quantization and every layer's integer parameters from the
// chosen ranges and precisions; then which least-error ranges the layers really use.
#include <fmt/core.h>

#include <algorithm>

#include "compiler/optimize/optimize_steps.h"
#include "compiler/optimize/weights_clipping.h"

namespace kiln::optimize {

void stepPrepare(OptimizeState& s) {
  Graph& g = s.graph();
  // weights_clipping's mmse bounds need the final weights and their bits.
  for (const std::string& line : resolveWeightsClipping(g, s.precision)) s.options.info(line);
  quant::prepareQuantization(g, s.stats, s.precision);
  if (!s.selectRanges) return;
  int changed = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    if (s.rangeMethod[i] != RangeMethod::Mse) continue;
    // Layers that keep their input's quantization (maxpool, reshape, ...) or have a fixed one
    // (softmax) do not use their own range.
    const QuantInfo& q = g.layers[i].outputQuant.at(0);
    if (q.min == std::min(s.chosen[i].lo, 0.0) && q.max == std::max(s.chosen[i].hi, 0.0))
      ++changed;
    else
      s.rangeMethod[i] = RangeMethod::NotOwn;
  }
  const auto decisions = std::count(s.decision.begin(), s.decision.end(), true);
  int perChannel = 0;
  for (size_t i = 0; i < g.layers.size(); ++i)
    perChannel += s.rangeMethod[i] == RangeMethod::Mse && i < s.perChannelRange.size() &&
                  s.perChannelRange[i];
  // Tensors read by depthwise convolutions (quant/channel_range.h) are named when there are any.
  const std::string channelNote =
      perChannel ? fmt::format(
                       " ({} read by depthwise convolutions: least error relative to "
                       "each channel's power)",
                       perChannel)
                 : std::string();
  s.options.info(fmt::format(
      "range selection: {} 8-bit tensor(s) narrowed to their least-error range{}; {} decision "
      "tensor(s) (outputs and what feeds them without weights) keep their upper end and {}+ "
      "steps for their positive side",
      changed, channelNote, decisions, quant::kDecisionPositiveLevels));
}

}  // namespace kiln::optimize
