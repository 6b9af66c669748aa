// The output stage of an accumulating layer: multipliers to the output (or to the domain of a
// table activation), clamps that implement relu/relu6/clip, negative-side multipliers for
// leaky/prelu, and the activation tables for everything else.
#include <algorithm>
#include <cmath>

#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {

bool clampActivation(ActKind k) {
  return k == ActKind::None || k == ActKind::Relu || k == ActKind::Relu6 || k == ActKind::Clip;
}

IntTensor multTensor(const std::vector<rt::Multiplier>& m) {
  IntTensor t;
  t.shape = {int64_t(m.size()), 2};
  t.bits = 32;
  for (const auto& x : m) {
    t.data.push_back(x.m);
    t.data.push_back(x.shift);
  }
  return t;
}

// The per-channel slope of a leaky/prelu activation; Error when a prelu slope is not per channel.
std::vector<double> negativeSlopes(const Layer& l, size_t channels) {
  if (l.activation.kind == ActKind::LeakyRelu)
    return std::vector<double>(channels, l.activation.alpha);
  const Tensor& s = l.param("prelu_slope");
  if (s.numel() == 1) return std::vector<double>(channels, s.data[0]);
  if (size_t(s.numel()) == channels) return std::vector<double>(s.data.begin(), s.data.end());
  throw Error("layer " + l.name + ": prelu slopes of shape " + shapeStr(s.shape) +
              " are not one per channel; Kiln quantizes per-channel prelu only");
}

}  // namespace

void prepareStage(Layer& l, const std::vector<double>& accScale, const Range& pre) {
  const QuantInfo& out = l.outputQuant.at(0);
  const Activation& act = l.activation;
  const size_t channels = accScale.size();
  int64_t qmin = 0, qmax = out.qmax(), lutOffset = 0, lutFrac = 0, lutValueBits = 0;
  std::vector<rt::Multiplier> mult, multNeg;
  if (clampActivation(act.kind) || act.kind == ActKind::LeakyRelu || act.kind == ActKind::PRelu) {
    for (double s : accScale) mult.push_back(quantizeMultiplier(s / out.scale));
    if (act.kind == ActKind::Relu || act.kind == ActKind::Relu6)
      qmin = std::max<int64_t>(0, out.zeroPoint);
    if (act.kind == ActKind::Relu6) qmax = std::min(qmax, quantizeValue(6.0, out));
    if (act.kind == ActKind::Clip) {
      qmin = quantizeValue(act.alpha, out);
      qmax = quantizeValue(act.beta, out);
    }
    if (act.kind == ActKind::LeakyRelu || act.kind == ActKind::PRelu) {
      const auto slopes = negativeSlopes(l, channels);
      for (size_t c = 0; c < channels; ++c) {
        if (slopes[c] < 0)
          throw Error("layer " + l.name + ": negative leaky/prelu slopes are not supported");
        multNeg.push_back(quantizeMultiplier(accScale[c] * slopes[c] / out.scale));
      }
    }
  } else {
    // Table activation: lutSize entries spanning the calibrated pre-activation range, addressed
    // with lutFrac fractional bits and interpolated; entries carry lutValueBits fractional bits.
    const int lutBits = out.bits == 8 ? 10 : 16;
    lutFrac = out.bits == 8 ? 4 : 6;
    lutValueBits = 6;
    const int64_t lutSize = int64_t(1) << lutBits;
    const Range r = pre.valid() ? pre : Range{out.min, out.max};
    const double lo = std::min(r.min, 0.0), hi = std::max(r.max, 0.0);
    const double sPre = hi > lo ? (hi - lo) / double(lutSize - 1) : 1.0;
    lutOffset = std::llround(-lo / sPre);
    for (double s : accScale)
      mult.push_back(quantizeMultiplier(s / sPre * double(int64_t(1) << lutFrac)));
    IntTensor lut;
    lut.shape = {lutSize};
    lut.bits = 32;
    lut.isSigned = false;
    const double one = double(int64_t(1) << lutValueBits);
    for (int64_t i = 0; i < lutSize; ++i) {
      const double x = double(i - lutOffset) * sPre;
      const double q = double(applyActivation(act, float(x))) / out.scale + double(out.zeroPoint);
      const double clamped = std::min(std::max(q, 0.0), double(out.qmax()));
      lut.data.push_back(std::llround(clamped * one));
    }
    l.qparams["stage_lut"] = std::move(lut);
  }
  l.qparams["stage_mult"] = multTensor(mult);
  if (!multNeg.empty()) l.qparams["stage_mult_neg"] = multTensor(multNeg);
  IntTensor misc;
  misc.shape = {6};
  misc.data = {out.zeroPoint, qmin, qmax, lutOffset, lutFrac, lutValueBits};
  l.qparams["stage_misc"] = std::move(misc);
}

}  // namespace kiln::quant
