// Range selection: on a long-tailed distribution the chosen 8-bit range is narrower than
// min/max and its modelled error lower; a lone far outlier is kept (clipping it costs more than
// the rounding it saves); on a uniform distribution min/max stays; a rare sign is not clipped;
// a decision tensor keeps its top and gets positive steps; signLoss measures what a grid loses.
#include <gtest/gtest.h>

#include <random>

#include "compiler/quant/quant_math.h"
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

// A score head's logits: a bulk in [-31, -0.5], a sparse tail to -1561.8, 0.3 % small positives.
std::vector<float> scoreLogits() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v;
  for (int i = 0; i < 100000; ++i) {
    const float r = u(rng);
    if (r < 0.003f)
      v.push_back(0.5f + 3.f * u(rng));
    else if (r < 0.013f)
      v.push_back(-31.f - 1530.8f * u(rng));
    else
      v.push_back(-0.5f - 30.5f * u(rng));
  }
  v.push_back(-1561.8f);
  return v;
}

TEST(RangeSelection, ARareSignIsNotClipped) {
  // 100000 values in [-1, 0] and 30 small positives in [0, 0.05] (a pre-activation whose
  // positive side is rare): clipping the larger of them costs less squared error than the
  // rounding the narrower grid saves.
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v;
  for (int i = 0; i < 100000; ++i) v.push_back(-u(rng));
  for (int i = 0; i < 30; ++i) v.push_back(0.05f * u(rng));
  quant::Range r;
  const quant::Histogram h = histogramOf(v, r);
  quant::RangeSearch plain;
  plain.maxPositiveClipped = 1.0;
  EXPECT_LT(quant::selectRange(h, r, 8, plain).hi, 0.9 * r.max);
  EXPECT_GE(quant::selectRange(h, r, 8).hi, 0.99 * r.max);
}

TEST(RangeSelection, ADecisionTensorKeepsItsTopAndGetsPositiveSteps) {
  const std::vector<float> v = scoreLogits();
  quant::Range r;
  const quant::Histogram h = histogramOf(v, r);
  quant::RangeSearch opts;
  opts.keepTop = true;
  opts.minPositiveLevels = quant::kDecisionPositiveLevels;
  const quant::RangeChoice c = quant::selectRange(h, r, 8, opts);
  EXPECT_GE(c.hi, r.max);
  // 64 steps would clip ~70 % of these negatives (their bulk spans 9 times the positive side):
  // the most steps within the 25 % allowed, and the choice says so.
  const QuantInfo q = quant::quantFromRange(c.lo, c.hi, 8);
  EXPECT_GE(q.qmax() - q.zeroPoint, 32);
  EXPECT_EQ(c.positiveSideShort, q.qmax() - q.zeroPoint < quant::kDecisionPositiveLevels);
  // No positive value is lost, and at most a quarter of the negatives is clipped.
  const quant::SignLoss l = quant::signLoss(h, r, q);
  EXPECT_LT(l.positiveLost, 0.01);
  EXPECT_EQ(l.positiveClipped, 0.0);
  EXPECT_LE(l.negativeClipped, 0.25);
}

TEST(RangeSelection, SignLossOfTheHeldAsideRange) {
  const std::vector<float> v = scoreLogits();
  quant::Range r;
  const quant::Histogram h = histogramOf(v, r);
  // [-1561.8, 0]: no step above the zero point, every positive logit is clipped to 0.
  const quant::SignLoss l = quant::signLoss(h, r, quant::quantFromRange(-1561.8, 0.0, 8));
  EXPECT_NEAR(l.positives, 0.003, 0.001);
  EXPECT_EQ(l.positiveLost, 1.0);
  EXPECT_NEAR(l.positiveClipped, 1.0, 1e-9);
  EXPECT_LT(l.negativeClipped, 1e-3);
  // Min/max [-1561.8, 3.5]: one step of 6.1 above the zero point, under which they all fall.
  const quant::SignLoss m = quant::signLoss(h, r, quant::quantFromRange(r.min, r.max, 8));
  EXPECT_GT(m.positiveLost, 0.8);
}

}  // namespace
}  // namespace kiln::test
