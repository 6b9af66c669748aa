// Step "check ranges": a quantization range that excludes most of the values of a sign that
// matters is caught here, whatever chose it (range selection, the script's force_range_out or
// activation_clipping). The positive side of a decision tensor matters always (a score logit
// that quantizes to 0 or below has lost its decision); either side of any other tensor matters
// when the range, not the 8-bit grid itself, excludes it (min/max would have kept most of it).
// A value is excluded when it lies beyond the grid (clipped) or, in a tensor with both signs,
// rounds to the zero point (its sign is lost). Findings become warnings and the report's
// "range_findings".
#include <fmt/core.h>

#include <algorithm>

#include "common/strings.h"
#include "compiler/optimize/optimize_steps.h"
#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"

namespace kiln::optimize {

namespace {

// More than this fraction of a sign's values excluded is "most of" them.
constexpr double kMostOf = 0.5;

struct SideLoss {
  double share, clipped, lost;
  // Disjoint unless the grid has no step on that side at all (then both are 1).
  double excluded() const { return std::min(1.0, clipped + lost); }
};

}  // namespace

void stepCheckRanges(OptimizeState& s) {
  const Graph& g = s.graph();
  s.rangeFindings.clear();
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    // Layers that keep their input's quantization (or have a fixed one) are checked at the
    // layer that owns it.
    if (i >= s.stats.hist.size() || s.stats.hist[i].empty() || !s.calibrated[i].valid() ||
        keepsInputQuantization(l.type) || l.type == LayerType::EwEqual ||
        l.type == LayerType::Softmax || quant::hasFixedPixelQuant(l) || l.outputQuant.empty())
      continue;
    const QuantInfo& q = l.outputQuant[0];
    const quant::Range& c = s.calibrated[i];
    // The grid's ends, after the zero point's rounding.
    const double gridLo = q.zeroPoint > 0 ? -double(q.zeroPoint) * q.scale : 0.0,
                 gridHi = double(q.qmax() - q.zeroPoint) * q.scale;
    const quant::SignLoss got = quant::signLoss(s.stats.hist[i], c, q);
    const quant::SignLoss mm =
        quant::signLoss(s.stats.hist[i], c, quant::quantFromRange(c.min, c.max, q.bits));
    const bool decision = i < s.decision.size() && s.decision[i];
    // Rounding to the zero point loses information only where the sign is information: in a
    // tensor with both signs (a logit). In a one-signed tensor (a probability map, a ReLU
    // output) values near 0 say "no" and only clipping excludes anything.
    const bool bothSigns = c.min < 0 && c.max > 0;
    const SideLoss pos{got.positives, got.positiveClipped, bothSigns ? got.positiveLost : 0.0};
    const SideLoss neg{got.negatives, got.negativeClipped, bothSigns ? got.negativeLost : 0.0};
    const double posMinMax =
        SideLoss{0, mm.positiveClipped, bothSigns ? mm.positiveLost : 0.0}.excluded();
    const double negMinMax =
        SideLoss{0, mm.negativeClipped, bothSigns ? mm.negativeLost : 0.0}.excluded();
    // A side cut at its saturation bound (quant/saturation.h) loses nothing: the values beyond
    // read the same at every activation that reads them.
    const quant::Range& sat = s.saturation.size() > i ? s.saturation[i] : quant::Range{};
    const bool posSaturated = sat.valid() && sat.max < c.max;
    const bool negSaturated = sat.valid() && sat.min > c.min;
    const bool posFlag = !posSaturated && pos.share > 0 && pos.excluded() > kMostOf &&
                         (decision || posMinMax <= kMostOf);
    const bool negFlag = !negSaturated && !decision && neg.share > 0 && neg.excluded() > kMostOf &&
                         negMinMax <= kMostOf;
    for (int side = 0; side < 2; ++side) {
      if (!(side == 0 ? posFlag : negFlag)) continue;
      const SideLoss& sl = side == 0 ? pos : neg;
      // The range to suggest: the calibrated one; for a decision tensor, with the negative side
      // cut so that the positive side gets about kDecisionPositiveLevels steps.
      const double levels = double(quant::kDecisionPositiveLevels);
      const double suggestLo =
          decision && c.max > 0 ? std::max(c.min, -c.max * (double(q.qmax()) / levels - 1)) : c.min;
      RangeFinding f;
      f.layer = l.name;
      f.sign = side == 0 ? "positive" : "negative";
      f.decision = decision;
      f.share = sl.share;
      f.clipped = sl.clipped;
      f.lost = sl.lost;
      f.range = {gridLo, gridHi};
      f.message = fmt::format(
          "layer {} (ONNX {}): its {}-bit range [{}, {}] ({}) excludes {:.0f}% of its {} "
          "values ({:.3g}% of all its values; {:.0f}% clipped, {:.0f}% quantize to 0){}. Set "
          "its range in the model script (quantization_param({}, force_range_out=[{}, {}])) or "
          "lift it to 16 bits (quantization_param({}, precision_mode=a16_w16))",
          l.name, join(l.originalNames, ","), q.bits, shortNumber(gridLo), shortNumber(gridHi),
          rangeMethodName(s.rangeMethod[i]), 100 * sl.excluded(), f.sign, 100 * sl.share,
          100 * sl.clipped, 100 * sl.lost,
          decision ? "; it is a decision tensor (an output, or feeds one without weights): the "
                     "decisions it carries are lost"
                   : "",
          l.name, shortNumber(suggestLo), shortNumber(c.max), l.name);
      s.options.warn(f.message);
      s.rangeFindings.push_back(std::move(f));
    }
  }
}

}  // namespace kiln::optimize
