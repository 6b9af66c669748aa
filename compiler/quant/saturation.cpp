#include "compiler/quant/saturation.h"

#include <cmath>
#include <limits>

#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Non-decreasing activations whose output stops changing beyond some input (on one side or both).
bool saturates(ActKind k) {
  return k == ActKind::Sigmoid || k == ActKind::Tanh || k == ActKind::HardSigmoid ||
         k == ActKind::Relu || k == ActKind::Relu6 || k == ActKind::Clip;
}

// The activation layers (and only those) that read layer `id`'s output, through layers that
// keep its quantization; false when anything else reads it.
bool saturatingReaders(const Graph& g, int id, std::vector<int>& out) {
  const std::vector<int> cs = g.consumers({id, 0});
  if (cs.empty()) return false;
  for (int c : cs) {
    const Layer& u = g.at(c);
    if (u.type == LayerType::Activation && u.inputs.size() == 1 && saturates(u.activation.kind)) {
      out.push_back(c);
    } else if (keepsInputQuantization(u.type) && u.type != LayerType::OutputLayer &&
               u.inputs.size() == 1) {
      if (!saturatingReaders(g, c, out)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Where activation `a` (non-decreasing) stops changing its quantized output, given the input's
// calibrated [lo, hi]: below `low` every input gives a value within a quarter step of the grid's
// lowest level, above `high` within a quarter step of its highest; ±infinity when it does not
// saturate there within [lo, hi]. Found by bisection on the float function itself.
Range saturationOf(const Layer& a, const QuantInfo& q, double lo, double hi) {
  const auto f = [&](double x) { return double(applyActivation(a.activation, float(x))); };
  const double gridLo = -double(q.zeroPoint) * q.scale;
  const double gridHi = double(q.qmax() - q.zeroPoint) * q.scale;
  const double quarter = q.scale / 4;
  Range r{-kInf, kInf};
  // Lowest side: the largest x in [lo, hi] with f(x) <= gridLo + quarter (f non-decreasing).
  if (f(lo) <= gridLo + quarter) {
    double a0 = lo, b0 = hi;
    if (f(hi) <= gridLo + quarter) return r;  // constant over the whole range: leave it alone
    for (int i = 0; i < 60; ++i) {
      const double m = (a0 + b0) / 2;
      (f(m) <= gridLo + quarter ? a0 : b0) = m;
    }
    r.min = a0;
  }
  if (f(hi) >= gridHi - quarter) {
    double a0 = lo, b0 = hi;
    if (f(lo) >= gridHi - quarter) return Range{-kInf, kInf};
    for (int i = 0; i < 60; ++i) {
      const double m = (a0 + b0) / 2;
      (f(m) >= gridHi - quarter ? b0 : a0) = m;
    }
    r.max = b0;
  }
  return r;
}

}  // namespace

std::vector<Range> saturationBounds(const Graph& g, const std::vector<Range>& calibrated,
                                    const std::vector<Range>& ranges,
                                    const std::vector<int>& bits) {
  std::vector<Range> bounds(g.layers.size());  // invalid: no bound
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::InputLayer || keepsInputQuantization(l.type) || !calibrated[i].valid())
      continue;
    std::vector<int> readers;
    if (!saturatingReaders(g, int(i), readers) || readers.empty()) continue;
    Range b{kInf, -kInf};  // the union of what the readers need
    for (int a : readers) {
      const Range& ra = ranges[size_t(a)];
      if (!ra.valid()) {
        b = Range{-kInf, kInf};
        break;
      }
      const QuantInfo q = quantFromRange(ra.min, ra.max, bits[size_t(a)]);
      const Range s = saturationOf(g.at(a), q, calibrated[i].min, calibrated[i].max);
      b.min = std::min(b.min, s.min);
      b.max = std::max(b.max, s.max);
    }
    if (b.min > -kInf || b.max < kInf) bounds[i] = b;
  }
  return bounds;
}

}  // namespace kiln::quant
