#include "compiler/quant/range_selection.h"

#include <algorithm>
#include <cmath>

#include "compiler/quant/histogram_side.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {

// What one candidate grid costs, and what it does to each sign.
struct Eval {
  double err = 0, clipped = 0;            // expected error per value; clipped fraction of all
  double posClipped = 0, negClipped = 0;  // clipped fraction of each sign's values
  int64_t posLevels = 0;                  // steps of the grid above the zero point
};

struct Model {
  HistogramSide pos, neg;
  double total = 0, nonzero = 0;
  int bits;
  double clipWeight = 1.0;
  Model(const Histogram& h, const Range& r, int b)
      : pos(h, true, std::max(r.max, 0.0)), neg(h, false, std::max(-r.min, 0.0)), bits(b) {
    nonzero = pos.s0[0] + neg.s0[0];
    total = nonzero + double(h.zeros());
  }
  Eval eval(double lo, double hi) const {
    const QuantInfo q = quantFromRange(lo, hi, bits);
    const double step = q.scale;
    const double top = double(q.qmax() - q.zeroPoint) * step, bottom = double(q.zeroPoint) * step;
    double ep, cp, en, cn;
    pos.clip(top, ep, cp);
    neg.clip(bottom, en, cn);
    const double inside = std::max(0.0, nonzero - cp - cn);
    Eval e;
    e.clipped = total > 0 ? (cp + cn) / total : 0.0;
    e.err = total > 0 ? (inside * step * step / 12 + clipWeight * (ep + en)) / total : 0.0;
    e.posClipped = pos.s0[0] > 0 ? cp / pos.s0[0] : 0.0;
    e.negClipped = neg.s0[0] > 0 ? cn / neg.s0[0] : 0.0;
    e.posLevels = q.qmax() - q.zeroPoint;
    return e;
  }
  double error(double lo, double hi, double* clippedOut) const {
    const Eval e = eval(lo, hi);
    if (clippedOut) *clippedOut = e.clipped;
    return e.err;
  }
};

}  // namespace

double expectedError(const Histogram& h, const Range& minmax, int bits, double lo, double hi,
                     double* clippedOut) {
  if (h.empty() || !minmax.valid()) {
    if (clippedOut) *clippedOut = 0;
    return 0;
  }
  return Model(h, minmax, bits).error(lo, hi, clippedOut);
}

SignLoss signLoss(const Histogram& h, const Range& minmax, const QuantInfo& q) {
  SignLoss l;
  if (h.empty() || !minmax.valid() || q.bits <= 0) return l;
  const HistogramSide pos(h, true, std::max(minmax.max, 0.0)),
      neg(h, false, std::max(-minmax.min, 0.0));
  const double np = pos.s0[0], nn = neg.s0[0], total = np + nn + double(h.zeros());
  if (total <= 0) return l;
  l.positives = np / total;
  l.negatives = nn / total;
  const double step = q.scale;
  const double top = double(q.qmax() - q.zeroPoint) * step, bottom = double(q.zeroPoint) * step;
  double err, beyond;
  // A value keeps its sign when it rounds at least one step away from the zero point, i.e. lies
  // beyond half a step, and the grid has a step on its side at all.
  if (np > 0) {
    pos.clip(top, err, beyond);
    l.positiveClipped = beyond / np;
    pos.clip(step / 2, err, beyond);
    l.positiveLost = top > 0 ? 1.0 - beyond / np : 1.0;
  }
  if (nn > 0) {
    neg.clip(bottom, err, beyond);
    l.negativeClipped = beyond / nn;
    neg.clip(step / 2, err, beyond);
    l.negativeLost = bottom > 0 ? 1.0 - beyond / nn : 1.0;
  }
  return l;
}

std::vector<std::pair<double, double>> rangeCandidates(const Range& minmax, int bits, bool keepTop,
                                                       bool snapEnds) {
  constexpr int kSteps = 160;
  std::vector<double> his, los;
  for (int k = 0; k < kSteps; ++k) {
    const double f = std::pow(1e-3, double(k) / (kSteps - 1));
    if (minmax.max > 0 && (!keepTop || k == 0)) his.push_back(minmax.max * f);
    if (minmax.min < 0) los.push_back(minmax.min * f);
  }
  if (his.empty()) his.push_back(minmax.max);
  if (los.empty()) los.push_back(minmax.min);
  std::vector<std::pair<double, double>> out;
  out.reserve(his.size() * los.size());
  for (double hi0 : his)
    for (double lo0 : los) {
      // The grid quantFromRange builds for [lo0, hi0] has its ends moved by the zero point's
      // rounding; widen it so that both ends are covered: [−z s, (qmax − z) s] with
      // s = max(−lo0 / z, hi0 / (qmax − z)).
      double lo = lo0, hi = hi0;
      if (snapEnds) {
        const QuantInfo q0 = quantFromRange(lo0, hi0, bits);
        const double z = double(q0.zeroPoint), top = double(q0.qmax()) - z;
        double sc = 0;
        if (z > 0) sc = std::max(sc, -std::min(lo0, 0.0) / z);
        if (top > 0) sc = std::max(sc, std::max(hi0, 0.0) / top);
        if (sc > 0) lo = -z * sc, hi = top * sc;
      }
      out.emplace_back(lo, hi);
    }
  return out;
}

RangeChoice selectRange(const Histogram& h, const Range& minmax, int bits,
                        const RangeSearch& opts) {
  RangeChoice c;
  c.lo = minmax.min;
  c.hi = minmax.max;
  if (h.empty() || !minmax.valid() || !std::isfinite(minmax.min) || !std::isfinite(minmax.max))
    return c;
  Model m(h, minmax, bits);
  if (m.total <= 0) return c;
  m.clipWeight = opts.clipWeight;
  const Eval mm = m.eval(minmax.min, minmax.max);
  c.mse = c.mseMinMax = mm.err;
  c.clipped = mm.clipped;
  // The positive-levels rule applies when there are positive values to keep.
  const int64_t wantLevels = m.pos.s0[0] > 0 ? opts.minPositiveLevels : 0;
  // Candidates in two tiers, the best of the first non-empty tier wins: (0) within every limit,
  // (1) a decision tensor whose positive levels cannot be reached without clipping more than
  // maxDecisionClipped of its negative values: the most positive levels within that bound.
  // Min/max is a candidate too, and wins ties.
  const double negCap = wantLevels > 0 ? opts.maxDecisionClipped : 1.0;
  auto tierOf = [&](const Eval& e) {
    if (e.clipped > opts.maxClipped || e.posClipped > opts.maxPositiveClipped) return 3;
    if (e.negClipped > negCap) return 3;
    return e.posLevels < wantLevels ? 1 : 0;
  };
  int bestTier = tierOf(mm);
  Eval best = mm;
  for (const auto& [lo, hi] : rangeCandidates(minmax, bits, opts.keepTop, opts.snapEnds)) {
    const Eval e = m.eval(lo, hi);
    const int tier = tierOf(e);
    if (tier == 3 || tier > bestTier) continue;
    const bool better =
        tier < bestTier || (tier == 1 ? e.posLevels > best.posLevels ||
                                            (e.posLevels == best.posLevels && e.err < best.err)
                                      : e.err < best.err);
    if (!better) continue;
    bestTier = tier;
    best = e;
    c.lo = lo;
    c.hi = hi;
  }
  c.mse = best.err;
  c.clipped = best.clipped;
  c.positiveSideShort = bestTier == 1;
  c.changed = c.lo != minmax.min || c.hi != minmax.max;
  return c;
}

}  // namespace kiln::quant
