#include "compiler/quant/range_selection.h"

#include <algorithm>
#include <cmath>

#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {

// One side of a histogram (the positive values, or the negative ones mirrored), as suffix sums
// of the bins' moments with values uniform inside each bin, so that the clipping error beyond
// any threshold t >= 0 costs O(1).
struct Side {
  double w = 0, extreme = 0;
  std::vector<double> a, b;        // bin edges (clamped to the extreme)
  std::vector<double> n;           // counts
  std::vector<double> s0, s1, s2;  // suffix sums of n, n E[x], n E[x²]

  Side(const Histogram& h, bool positive, double ext)
      : w(positive ? h.wPos : h.wNeg), extreme(ext) {
    constexpr int K = Histogram::kBins;
    a.resize(K), b.resize(K), n.resize(K);
    s0.assign(K + 1, 0), s1.assign(K + 1, 0), s2.assign(K + 1, 0);
    if (w <= 0 || extreme <= 0) return;
    for (int j = 0; j < K; ++j) {
      a[j] = std::min(double(j) * w, extreme);
      b[j] = std::min(double(j + 1) * w, extreme);
      n[j] = double(positive ? h.pos(j) : h.neg(j));
    }
    for (int j = K - 1; j >= 0; --j) {
      const double m1 = (a[j] + b[j]) / 2, m2 = (a[j] * a[j] + a[j] * b[j] + b[j] * b[j]) / 3;
      s0[j] = s0[j + 1] + n[j];
      s1[j] = s1[j + 1] + n[j] * m1;
      s2[j] = s2[j + 1] + n[j] * m2;
    }
  }

  // Squared error and count of the values beyond t (clipped to t).
  void clip(double t, double& err, double& count) const {
    err = count = 0;
    if (w <= 0 || t >= extreme) return;
    t = std::max(t, 0.0);
    const int jt = std::min(int(t / w), Histogram::kBins - 1);
    err = std::max(0.0, s2[jt + 1] - 2 * t * s1[jt + 1] + t * t * s0[jt + 1]);
    count = s0[jt + 1];
    const double lo = std::max(a[jt], t), hi = b[jt];
    if (n[jt] > 0 && hi > lo) {
      const double part = b[jt] > a[jt] ? (hi - lo) / (b[jt] - a[jt]) : 1.0;
      count += n[jt] * part;
      // uniform on [lo, hi], distance to t: E[(x - t)²] = ((lo-t)² + (lo-t)(hi-t) + (hi-t)²) / 3
      const double u = lo - t, v = hi - t;
      err += n[jt] * part * (u * u + u * v + v * v) / 3;
    }
  }
};

struct Model {
  Side pos, neg;
  double total = 0, nonzero = 0;
  int bits;
  double clipWeight = 1.0;
  Model(const Histogram& h, const Range& r, int b)
      : pos(h, true, std::max(r.max, 0.0)), neg(h, false, std::max(-r.min, 0.0)), bits(b) {
    nonzero = pos.s0[0] + neg.s0[0];
    total = nonzero + double(h.zeros());
  }
  double error(double lo, double hi, double* clippedOut) const {
    const QuantInfo q = quantFromRange(lo, hi, bits);
    const double step = q.scale;
    const double top = double(q.qmax() - q.zeroPoint) * step, bottom = double(q.zeroPoint) * step;
    double ep, cp, en, cn;
    pos.clip(top, ep, cp);
    neg.clip(bottom, en, cn);
    const double inside = std::max(0.0, nonzero - cp - cn);
    if (clippedOut) *clippedOut = total > 0 ? (cp + cn) / total : 0.0;
    return total > 0 ? (inside * step * step / 12 + clipWeight * (ep + en)) / total : 0.0;
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
  c.mse = c.mseMinMax = m.error(minmax.min, minmax.max, &c.clipped);
  constexpr int kSteps = 160;
  std::vector<double> his, los;
  for (int k = 0; k < kSteps; ++k) {
    const double f = std::pow(1e-3, double(k) / (kSteps - 1));
    if (minmax.max > 0) his.push_back(minmax.max * f);
    if (minmax.min < 0) los.push_back(minmax.min * f);
  }
  if (his.empty()) his.push_back(minmax.max);
  if (los.empty()) los.push_back(minmax.min);
  const bool snap = opts.snapEnds;
  for (double hi0 : his)
    for (double lo0 : los) {
      // The grid quantFromRange builds for [lo0, hi0] has its ends moved by the zero point's
      // rounding; widen it so that both ends are covered: [−z s, (qmax − z) s] with
      // s = max(−lo0 / z, hi0 / (qmax − z)).
      double lo = lo0, hi = hi0;
      if (snap) {
        const QuantInfo q0 = quantFromRange(lo0, hi0, bits);
        const double z = double(q0.zeroPoint), top = double(q0.qmax()) - z;
        double sc = 0;
        if (z > 0) sc = std::max(sc, -std::min(lo0, 0.0) / z);
        if (top > 0) sc = std::max(sc, std::max(hi0, 0.0) / top);
        if (sc > 0) lo = -z * sc, hi = top * sc;
      }
      double clipped = 0;
      const double e = m.error(lo, hi, &clipped);
      if (clipped > opts.maxClipped || !(e < c.mse)) continue;
      c.mse = e;
      c.lo = lo;
      c.hi = hi;
      c.clipped = clipped;
    }
  c.changed = c.lo != minmax.min || c.hi != minmax.max;
  return c;
}

}  // namespace kiln::quant
