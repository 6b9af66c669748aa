// Element-wise layers: operands brought to a common fixed-point scale (add, sub, max, min,
// equal), multiplied (mult) or divided with a 2^24 numerator scale (div); standalone
// activations; constants quantized like any tensor.
#include <algorithm>
#include <cmath>

#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {
constexpr int kDivBits = 24;

IntTensor ints(std::vector<int64_t> v, int bits = 64) {
  IntTensor t;
  t.shape = {int64_t(v.size())};
  t.data = std::move(v);
  t.bits = bits;
  return t;
}
}  // namespace

void prepareEltwise(Layer& l, const std::vector<QuantInfo>& in, const CalibStats& s, int id) {
  const QuantInfo& out = l.outputQuant.at(0);
  switch (l.type) {
    case LayerType::ConstInput: {
      IntTensor v;
      const Tensor& t = l.param("value");
      v.shape = t.shape;
      v.bits = out.bits;
      v.isSigned = false;
      for (float x : t.data) v.data.push_back(quantizeValue(x, out));
      l.qparams["value"] = std::move(v);
      return;
    }
    case LayerType::Activation:
      prepareStage(l, {in[0].scale}, s.pre.at(id));
      return;
    case LayerType::EwMult:
      prepareStage(l, {in[0].scale * in[1].scale}, s.pre.at(id));
      return;
    case LayerType::EwDiv:
      l.qparams["operand_mult"] = ints({int64_t(1) << kDivBits, 0});
      prepareStage(l, {in[0].scale / (in[1].scale * double(int64_t(1) << kDivBits))}, s.pre.at(id));
      return;
    default:
      break;
  }
  // add, sub, max, min, equal: accumulator unit sAcc = min scale / 2^shift, with the shift as
  // large as keeps both operand multipliers below 2^30.
  const double lo = std::min(in[0].scale, in[1].scale), hi = std::max(in[0].scale, in[1].scale);
  const int shift = std::clamp(29 - int(std::ceil(std::log2(hi / lo))), 0, 20);
  const double sAcc = lo / double(int64_t(1) << shift);
  l.qparams["operand_mult"] =
      ints({std::llround(in[0].scale / sAcc), std::llround(in[1].scale / sAcc)});
  if (l.type == LayerType::EwEqual) {
    // The kernel writes equal_one or the zero point directly and never rescales; the output
    // stage it still carries (the eltwise op's layout) is an identity: multiplier 1, shift 0.
    l.qparams["equal_one"] = ints({quantizeValue(1.0, out)});
    l.qparams["stage_misc"] = ints({out.zeroPoint, 0, out.qmax(), 0, 0, 0});
    IntTensor mult = ints({1, 0}, 32);
    mult.shape = {1, 2};
    l.qparams["stage_mult"] = std::move(mult);
    return;
  }
  prepareStage(l, {sAcc}, s.pre.at(id));
}

}  // namespace kiln::quant
