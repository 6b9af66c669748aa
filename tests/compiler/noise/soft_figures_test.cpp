// The smoothed decision figures of the mixed-precision search (compiler/noise/soft_figures.h):
// the scale is the build's median error at the decisions, the soft F1 equals the counted F1 when
// the margins are large against it, and it moves with the margins when no decision flips.
#include "compiler/noise/soft_figures.h"

#include <gtest/gtest.h>

#include <cmath>

#include "compiler/eval/metrics.h"

namespace kiln::noise {
namespace {

FloatBuffer buf(std::vector<float> v) {
  FloatBuffer b;
  b.shape = {1, int64_t(v.size())};
  b.data = std::move(v);
  return b;
}

eval::EvalSpec scoresSpec(eval::Activation act, double thr) {
  eval::EvalSpec s;
  eval::OutputEval o;
  o.output = "scores";
  o.kind = eval::Kind::scores;
  o.scores.activation = act;
  o.scores.threshold = thr;
  s.outputs.push_back(o);
  return s;
}

double softF1(const eval::EvalSpec& spec, const FloatBuffer& ref, const FloatBuffer& test,
              SoftScales sc) {
  SoftTally t(spec, {"scores"}, {}, std::move(sc));
  t.add({&ref}, {&test});
  return t.f1(0);
}

TEST(SoftFigures, ScaleIsTheMedianErrorWhereEitherSideDecidesPositive) {
  const auto spec = scoresSpec(eval::Activation::none, 0.5);
  // Elements 0-2 are decisions (float or test above 0.5), 3 is neither: its error is left out.
  // Errors 0.1, 0.05, 0.8 (a flip): the median, 0.1, sets the scale, not the flip.
  const FloatBuffer ref = buf({0.9f, 0.7f, 0.9f, 0.1f}), test = buf({0.8f, 0.75f, 0.1f, 0.45f});
  SoftScaleMeter m(spec, {"scores"}, {});
  m.add({&ref}, {&test});
  const SoftScales s = m.scales();
  ASSERT_EQ(s.tau.size(), 1u);
  EXPECT_NEAR(s.tau[0], 1.4826 * 0.1, 1e-6);
}

TEST(SoftFigures, SoftDecisionIsASmoothStepOverTwoScalesEachSide) {
  EXPECT_EQ(softDecision(-2.0), 0.0);
  EXPECT_EQ(softDecision(-50.0), 0.0);  // a masked map's zeros add nothing
  EXPECT_EQ(softDecision(2.0), 1.0);
  EXPECT_DOUBLE_EQ(softDecision(0.0), 0.5);
  EXPECT_NEAR(softDecision(1.0) + softDecision(-1.0), 1.0, 1e-12);
  EXPECT_LT(softDecision(0.5), softDecision(1.0));
}

TEST(SoftFigures, EqualsTheCountedF1WhenMarginsAreLargeAgainstTheScale) {
  const auto spec = scoresSpec(eval::Activation::none, 0.5);
  const FloatBuffer ref = buf({0.9f, 0.8f, 0.1f, 0.7f, 0.0f}),
                    test = buf({0.95f, 0.1f, 0.2f, 0.9f, 0.8f});
  eval::Array r, t;
  r.shape = t.shape = {1, 5};
  r.data = ref.data;
  t.data = test.data;
  const double counted = eval::evalScores(r, t, spec.outputs[0].scores).f1;
  EXPECT_NEAR(softF1(spec, ref, test, {{1e-4}}), counted, 1e-9);
}

TEST(SoftFigures, GrowsWithTheMarginWhileNoDecisionFlips) {
  const auto spec = scoresSpec(eval::Activation::none, 0.5);
  const FloatBuffer ref = buf({0.9f, 0.8f, 0.1f});
  // The test build's first element stays positive but moves from the threshold toward float's.
  double last = -1;
  for (float v : {0.52f, 0.55f, 0.6f, 0.65f}) {  // within 2 scales of the threshold
    const double f = softF1(spec, ref, buf({v, 0.8f, 0.1f}), {{0.1}});
    EXPECT_GT(f, last) << v;
    last = f;
  }
  EXPECT_LT(last, 1.0);
}

TEST(SoftFigures, SigmoidScoresAreComparedAsLogits) {
  // Threshold 0.5 is logit 0: a logit of +0.2 against a scale of 0.2 is z = 1.
  const auto spec = scoresSpec(eval::Activation::sigmoid, 0.5);
  const double f = softF1(spec, buf({3.0f}), buf({0.2f}), {{0.2}});
  const double p = softDecision(1.0);
  EXPECT_NEAR(f, 2 * p / (1 + p), 1e-6);  // 0.2f is not 0.2
}

TEST(SoftFigures, MapsAreSmoothedPerPixelAndOtherKindsHaveNone) {
  eval::EvalSpec spec;
  eval::OutputEval m;
  m.output = "map";
  m.kind = eval::Kind::map;
  m.map.threshold = 0.3;
  spec.outputs.push_back(m);
  eval::OutputEval c;
  c.output = "cls";
  c.kind = eval::Kind::classes;
  spec.outputs.push_back(c);
  const FloatBuffer ref = buf({0.9f, 0.0f}), test = buf({0.9f, 0.0f});
  SoftScaleMeter meter(spec, {"map", "cls", "plain"}, {});
  meter.add({&ref, &ref, &ref}, {&test, &test, &test});
  const SoftScales s = meter.scales();
  EXPECT_GT(s.tau[0], 0);  // no error at all: a tiny scale, so the counted figure
  EXPECT_EQ(s.tau[1], 0);
  EXPECT_EQ(s.tau[2], 0);
  SoftTally t(spec, {"map", "cls", "plain"}, {}, s);
  t.add({&ref, &ref, &ref}, {&test, &test, &test});
  EXPECT_NEAR(t.f1(0), 1.0, 1e-9);
  EXPECT_TRUE(std::isnan(t.f1(1)));
  EXPECT_TRUE(std::isnan(t.f1(2)));
}

}  // namespace
}  // namespace kiln::noise
