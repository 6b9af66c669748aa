// Range selection: on a long-tailed distribution the chosen 8-bit range is narrower than
// min/max and its modelled error lower; a lone far outlier is kept (clipping it costs more than
// the rounding it saves); on a uniform distribution min/max stays.
#include <gtest/gtest.h>

#include <random>

#include "compiler/quant/range_selection.h"

namespace kiln::test {
namespace {

quant::Histogram histogramOf(const std::vector<float>& v, quant::Range& r) {
  r = {};
  r.add(v);
  quant::Histogram h;
  h.addFinite(v.data(), v.size(), float(r.min), float(r.max));
  return h;
}

TEST(RangeSelection, LongTailsAreClippedWhenThatLowersTheError) {
  std::mt19937 rng(3);
  std::exponential_distribution<float> expo(1.f);
  std::vector<float> v;
  for (int i = 0; i < 200000; ++i) v.push_back((i % 2 ? 1.f : -1.f) * expo(rng));  // Laplace
  quant::Range r;
  const quant::Histogram h = histogramOf(v, r);
  const quant::RangeChoice c = quant::selectRange(h, r, 8);
  EXPECT_TRUE(c.changed);
  EXPECT_LT(c.hi, r.max);
  EXPECT_GE(c.lo, r.min);
  EXPECT_LT(c.mse, c.mseMinMax);
  EXPECT_LT(c.clipped, 1e-2);
}

TEST(RangeSelection, ALoneFarOutlierIsKept) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v;
  for (int i = 0; i < 200000; ++i) v.push_back(normal(rng));
  v.push_back(150.f);
  quant::Range r;
  const quant::Histogram h = histogramOf(v, r);
  EXPECT_GE(quant::selectRange(h, r, 8).hi, 140.0);
}

TEST(RangeSelection, UniformValuesKeepMinMax) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> uni(-1.f, 3.f);
  std::vector<float> v;
  for (int i = 0; i < 100000; ++i) v.push_back(uni(rng));
  quant::Range r;
  const quant::Histogram h = histogramOf(v, r);
  const quant::RangeChoice c = quant::selectRange(h, r, 8);
  EXPECT_NEAR(c.lo, r.min, 0.05);
  EXPECT_NEAR(c.hi, r.max, 0.05);
}

TEST(RangeSelection, SixteenBitsNeverNeedClipping) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v;
  for (int i = 0; i < 50000; ++i) v.push_back(normal(rng));
  v.push_back(20.f);
  quant::Range r;
  const quant::Histogram h = histogramOf(v, r);
  const quant::RangeChoice c8 = quant::selectRange(h, r, 8), c16 = quant::selectRange(h, r, 16);
  EXPECT_LE(c8.hi, c16.hi);
  EXPECT_LT(c16.mseMinMax, c8.mseMinMax);
}

}  // namespace
}  // namespace kiln::test
