// Softmax and layer normalization: the compile-time half of their integer designs (see
// docs/arithmetic.md and runtime/kernels/softmax.cpp, layernorm.cpp). Softmax gets its exponential
// table; layer normalization its epsilon in input units, per-element gamma/beta and output stage.
#include <algorithm>
#include <cmath>

#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {

IntTensor ints(std::vector<int64_t> v, int bits = 64, bool isSigned = true) {
  IntTensor t;
  t.shape = {int64_t(v.size())};
  t.data = std::move(v);
  t.bits = bits;
  t.isSigned = isSigned;
  return t;
}

// exp(-d * s_in) for d = max - x in input units, in Q(kSoftmaxExpBits); the table stops before its
// first zero entry (the kernel reads past-the-end as 0).
void prepareSoftmax(Layer& l, const QuantInfo& in) {
  std::vector<int64_t> table;
  const double one = std::ldexp(1.0, kSoftmaxExpBits);
  for (int64_t d = 0; d <= in.qmax(); ++d) {
    const int64_t e = std::llround(std::exp(-double(d) * in.scale) * one);
    if (e == 0) break;
    table.push_back(e);
  }
  l.qparams["softmax_exp"] = ints(std::move(table), 32, false);
}

void prepareLayerNorm(Layer& l, const QuantInfo& in, const Graph& g, const CalibStats& s, int id,
                      int weightBits) {
  const QuantInfo& out = l.outputQuant.at(0);
  const Shape& is = g.shapeOf(l.inputs[0]);
  const int64_t axis = l.attrInt("axis");
  int64_t len = 1;
  for (size_t d = size_t(axis); d < is.size(); ++d) len *= is[d];
  // epsilon in the unit of D = len^2 (var + eps) / s_in^2, clamped so that D < 2^61.
  const double epsQ = l.attrFloat("epsilon") * double(len) * double(len) / (in.scale * in.scale);
  const int64_t epsInt = std::llround(std::min(epsQ, 0x1p60));
  // Per element k: gamma_q[k] * s_g[k] = gamma[k] with s_g[k] = |gamma[k]| / qmax (gamma_q =
  // ±qmax), floored so the output multiplier s_g 2^-normBits / s_out stays >= 2^-30 (a negligible
  // gamma then rounds toward 0 instead of losing beta in a zero multiplier).
  const auto& gamma = l.param("scale").data;
  const auto& beta = l.param("bias").data;
  const double qmaxW = double(weightQmax(weightBits));
  const double unitNorm = std::ldexp(1.0, -kLayerNormBits);
  const double floorScale = out.scale * std::ldexp(1.0, kLayerNormBits - 30);
  std::vector<int64_t> gq, bq;
  std::vector<double> accScale;
  for (int64_t k = 0; k < len; ++k) {
    const double sg = std::max(std::fabs(double(gamma[k])) / qmaxW, floorScale);
    gq.push_back(
        std::clamp<int64_t>(std::llround(double(gamma[k]) / sg), -int64_t(qmaxW), int64_t(qmaxW)));
    accScale.push_back(sg * unitNorm);
    bq.push_back(std::llround(double(beta[k]) / accScale.back()));
  }
  l.qparams["kernel"] = ints(std::move(gq), weightBits);
  l.qparams["bias"] = ints(std::move(bq));
  l.qparams["layernorm_misc"] = ints({epsInt, kLayerNormBits});
  prepareStage(l, accScale, s.pre.at(id));
}

}  // namespace

void prepareNorm(Layer& l, const std::vector<QuantInfo>& in, const Graph& g, const CalibStats& s,
                 int id, int weightBits) {
  if (l.type == LayerType::Softmax) return prepareSoftmax(l, in.at(0));
  prepareLayerNorm(l, in.at(0), g, s, id, weightBits);
}

}  // namespace kiln::quant
