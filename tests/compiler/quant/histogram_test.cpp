// Calibration histograms: the counting loop (histogram_fill.cpp, AVX2 where the CPU has it) puts
// every value in the bin the scalar rule gives, edge values included (±0, NaN, the largest value
// of each side, denormals, lengths that are no multiple of the vector width), across calls that
// widen the bins.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "compiler/quant/calibration_stats.h"

namespace kiln::test {
namespace {

using quant::Histogram;

// The rule as first written (one value at a time), on counts already sized and fitted.
void referenceCount(std::vector<uint64_t>& counts, double wPos, double wNeg, const float* v,
                    size_t n) {
  constexpr int K = Histogram::kBins;
  const float sp = wPos > 0 ? float(1.0 / wPos) : 0.f, sn = wNeg > 0 ? float(1.0 / wNeg) : 0.f;
  constexpr float top = float(K - 1);
  uint64_t* c = counts.data() + K;
  for (size_t i = 0; i < n; ++i) {
    const float x = v[i];
    float f = x > 0 ? x * sp : -x * sn;
    f = f < top ? f : top;
    const int j = int(f);
    const int idx = x > 0 ? 1 + j : (x < 0 ? -1 - j : 0);
    c[idx] += (x == x);
  }
}

// Adds `v` to `h` and checks the counts against the reference applied after the same fit.
void addAndCheck(Histogram& h, const std::vector<float>& v) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float x : v)
    if (x == x) lo = std::min(lo, x), hi = std::max(hi, x);
  const Histogram before = h;
  h.addFinite(v.data(), v.size(), lo, hi);
  // The reference: the widths and merged counts addFinite chose, then the values one by one.
  Histogram fitted = before;
  fitted.addFinite(nullptr, 0, lo, hi);  // fits the sides, counts nothing
  std::vector<uint64_t> expected = fitted.counts;
  referenceCount(expected, h.wPos, h.wNeg, v.data(), v.size());
  ASSERT_EQ(h.counts, expected);
}

TEST(Histogram, CountsMatchTheScalarRuleOnEdgeValues) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 3.f);
  Histogram h;
  for (size_t n : {size_t(1), size_t(7), size_t(8), size_t(9), size_t(1000), size_t(4099),
                   size_t(100003)}) {
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng) * float(n % 5 + 1);  // later calls widen the bins
    // Edge values at fixed places (some land in a vector's tail).
    const float edges[] = {0.f,
                           -0.f,
                           std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::denorm_min(),
                           -std::numeric_limits<float>::denorm_min(),
                           1e-30f,
                           -1e-30f};
    for (size_t k = 0; k < std::size(edges) && k < n; ++k) v[(k * 13) % n] = edges[k];
    addAndCheck(h, v);
  }
  // Runs of one bin (a ReLU's zeros) and values exactly at each side's extreme.
  std::vector<float> zeros(5000, 0.f);
  zeros[17] = 40.f;
  zeros[4001] = -40.f;
  addAndCheck(h, zeros);
}

TEST(Histogram, OneSidedAndAllNan) {
  Histogram h;
  std::vector<float> pos(1001);
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = float(i) * 0.37f;
  addAndCheck(h, pos);
  EXPECT_EQ(h.wNeg, 0.0);
  std::vector<float> nan(33, std::numeric_limits<float>::quiet_NaN());
  nan[5] = 1.f;
  addAndCheck(h, nan);
  uint64_t total = 0;
  for (uint64_t c : h.counts) total += c;
  EXPECT_EQ(total, pos.size() + 1);  // NaN is never counted
}

}  // namespace
}  // namespace kiln::test
