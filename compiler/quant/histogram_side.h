// One side of a calibration histogram (the positive values, or the negative ones mirrored) as
// suffix sums of the bins' moments, so that the clipping error beyond any threshold costs O(1).
// Shared by the per-tensor (range_selection.cpp) and per-channel (channel_range.cpp) range
// searches.
#pragma once

#include <algorithm>
#include <vector>

#include "compiler/quant/calibration_stats.h"

namespace kiln::quant {

// One side of a histogram (the positive values, or the negative ones mirrored), as suffix sums
// of the bins' moments with values uniform inside each bin, so that the clipping error beyond
// any threshold t >= 0 costs O(1).
struct HistogramSide {
  double w = 0, extreme = 0;
  std::vector<double> a, b;        // bin edges (clamped to the extreme)
  std::vector<double> n;           // counts
  std::vector<double> s0, s1, s2;  // suffix sums of n, n E[x], n E[x²]

  HistogramSide(const Histogram& h, bool positive, double ext)
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

  // Sum of squares and count of the values below t (>= 0): the values that round to 0 on a grid
  // whose step is 2 t.
  void below(double t, double& sumSq, double& count) const {
    sumSq = count = 0;
    if (w <= 0 || t <= 0) return;
    if (t >= extreme) {
      sumSq = s2[0], count = s0[0];
      return;
    }
    const int jt = std::min(int(t / w), Histogram::kBins - 1);
    sumSq = s2[0] - s2[jt];
    count = s0[0] - s0[jt];
    const double lo = a[jt], hi = std::min(b[jt], t);
    if (n[jt] > 0 && hi > lo) {
      const double part = (hi - lo) / (b[jt] - a[jt]);
      count += n[jt] * part;
      sumSq += n[jt] * part * (lo * lo + lo * hi + hi * hi) / 3;
    }
  }
};

}  // namespace kiln::quant
