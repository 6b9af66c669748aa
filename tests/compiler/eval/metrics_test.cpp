// kiln eval's metrics on hand-made arrays whose answers are worked out in the comments.
#include "compiler/eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "compiler/ir/types.h"

namespace kiln::eval {
namespace {

TEST(EvalClasses, AgreementAndAccuracy) {
  // 4 samples x 3 classes: argmax float 0,1,2,1; test 0,2,2,0 -> 2 of 4 agree.
  const Array ref{{4, 3}, {5, 1, 0, 0, 9, 1, 1, 2, 3, 0, 4, 1}};
  const Array test{{4, 3}, {5, 1, 0, 0, 1, 9, 1, 2, 3, 4, 0, 1}};
  const std::vector<int64_t> labels{0, 1, 2, 2};  // float right 3 of 4, test 2 of 4
  const auto r = evalClasses(ref, test, -1, &labels);
  EXPECT_EQ(r.decisions, 4);
  EXPECT_DOUBLE_EQ(r.agreement, 0.5);
  EXPECT_DOUBLE_EQ(*r.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(*r.refAccuracy, 0.75);
}

TEST(EvalClasses, AxisInTheMiddleAndTies) {
  // 1 sample, [C=2, P=3]: argmax over axis 0 per position. Float: 1,0,0 (tie -> first).
  const Array ref{{1, 2, 3}, {0, 5, 1, 1, 5, 0}};
  const Array test{{1, 2, 3}, {0, 5, 0, 1, 4, 1}};  // 1,0,1
  const auto r = evalClasses(ref, test, 0);
  EXPECT_EQ(r.decisions, 3);
  EXPECT_NEAR(r.agreement, 2.0 / 3.0, 1e-12);
  EXPECT_FALSE(r.accuracy.has_value());
}

TEST(EvalClasses, RejectsWrongLabelCountAndShape) {
  const Array a{{2, 2}, {0, 1, 1, 0}};
  const std::vector<int64_t> labels{0};
  EXPECT_THROW(evalClasses(a, a, -1, &labels), Error);
  EXPECT_THROW(evalClasses(a, Array{{1, 4}, {0, 1, 1, 0}}, -1), Error);
  EXPECT_THROW(evalClasses(a, a, 3), Error);
}

TEST(EvalScores, SigmoidThresholdF1) {
  // Logits; sigmoid >= 0.5 <=> logit >= 0. Float positives at 0,1,2; test at 1,2,3.
  // both = 2, F1 = 2*2/(3+3) = 2/3.
  const Array ref{{1, 5}, {1, 2, 0.5f, -1, -3}};
  const Array test{{1, 5}, {-0.5f, 2, 0.1f, 0.2f, -3}};
  ScoresSpec spec;
  spec.activation = Activation::sigmoid;
  const auto r = evalScores(ref, test, spec);
  EXPECT_EQ(r.refPositives, 3);
  EXPECT_EQ(r.testPositives, 3);
  EXPECT_EQ(r.both, 2);
  EXPECT_NEAR(r.f1, 2.0 / 3.0, 1e-12);
  EXPECT_FALSE(r.topKF1.has_value());
}

TEST(EvalScores, NoPositivesAnywhereIsPerfect) {
  const Array a{{2, 2}, {0.1f, 0.2f, 0.3f, 0.4f}};
  EXPECT_DOUBLE_EQ(evalScores(a, a, ScoresSpec{}).f1, 1.0);
  // The float finds nothing, the test finds one: F1 0.
  const Array b{{2, 2}, {0.1f, 0.2f, 0.3f, 0.9f}};
  EXPECT_DOUBLE_EQ(evalScores(a, b, ScoresSpec{}).f1, 0.0);
}

TEST(EvalScores, SoftmaxAndTopK) {
  // Softmax over 4 classes of 2 samples; threshold 0.5 catches only dominant classes.
  // Sample 0: float [4,0,0,0] -> class 0 ~0.95; test [0,4,0,0] -> class 1.
  // Sample 1: float and test both [0,0,0,4] -> class 3.
  // Positives: float {0, 7}, test {1, 7}: F1 = 2*1/4 = 0.5. Top-2 per sample (ties to the lower
  // position): float {0,1} and {3,0}; test {1,0} and {3,0} -> all 4 agree, F1 1.
  const Array ref{{2, 4}, {4, 0, 0, 0, 0, 0, 0, 4}};
  const Array test{{2, 4}, {0, 4, 0, 0, 0, 0, 0, 4}};
  ScoresSpec spec;
  spec.activation = Activation::softmax;
  spec.topK = 2;
  const auto r = evalScores(ref, test, spec);
  EXPECT_DOUBLE_EQ(r.f1, 0.5);
  EXPECT_DOUBLE_EQ(*r.topKF1, 1.0);
  spec.topK = 1;  // top-1: {0},{3} vs {1},{3} -> 1 of 2
  EXPECT_DOUBLE_EQ(*evalScores(ref, test, spec).topKF1, 0.5);
}

TEST(EvalMap, IouAndComponentBoxes) {
  // One 4x6 map. Float: two blobs (cols 0-1 rows 0-1, and col 4-5 rows 2-3). Test: the first
  // blob the same, the second shifted to col 3 only (IoU 0 with float's second box), plus nothing
  // else. Mask IoU: inter 4, union 4+4+2 = 10 -> 0.4. Boxes: float 2, test 2, matched 1 -> F1 0.5.
  // clang-format off
  const Array ref{{1, 4, 6}, {1, 1, 0, 0, 0, 0,
                              1, 1, 0, 0, 0, 0,
                              0, 0, 0, 0, 1, 1,
                              0, 0, 0, 0, 1, 1}};
  const Array test{{1, 4, 6}, {1, 1, 0, 0, 0, 0,
                               1, 1, 0, 0, 0, 0,
                               0, 0, 0, 1, 0, 0,
                               0, 0, 0, 1, 0, 0}};
  // clang-format on
  MapSpec spec;
  const auto r = evalMap(ref, test, spec);
  EXPECT_DOUBLE_EQ(r.iou, 0.4);
  EXPECT_EQ(r.refBoxes, 2);
  EXPECT_EQ(r.testBoxes, 2);
  EXPECT_EQ(r.matched, 1);
  EXPECT_DOUBLE_EQ(r.boxF1, 0.5);
  // minArea 3 drops the test's two-pixel blob: test 1 box, matched 1 -> F1 2/3.
  spec.minArea = 3;
  EXPECT_NEAR(evalMap(ref, test, spec).boxF1, 2.0 / 3.0, 1e-12);
}

TEST(EvalMap, NhwcMapWithOneChannel) {
  // [1, 3, 3, 1]: the map is 3 x 3 (not 3 maps of 3 x 1): two separate pixels, two boxes.
  const Array m{{1, 3, 3, 1}, {1, 0, 0, 0, 0, 0, 0, 0, 1}};
  const auto r = evalMap(m, m, MapSpec{});
  EXPECT_EQ(r.refBoxes, 2);
}

TEST(EvalMap, DiagonalPixelsAreOneComponent) {
  // 8-connectivity: a diagonal is one box.
  const Array m{{1, 3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}};
  const auto r = evalMap(m, m, MapSpec{});
  EXPECT_EQ(r.refBoxes, 1);
  EXPECT_DOUBLE_EQ(r.boxF1, 1.0);
  EXPECT_DOUBLE_EQ(r.iou, 1.0);
}

TEST(EvalRegress, OnlyWhereScoresArePositive) {
  // Scores [1, 3, 1]: positives at anchors 0 and 2. Boxes [1, 3, 2]: errors per value
  // anchor 0: 1, 3; anchor 1: 100, 100 (ignored); anchor 2: 0, 2 -> max 3, median of {0,1,2,3} 1.5.
  const Array scores{{1, 3, 1}, {0.9f, 0.1f, 0.7f}};
  const auto mask = positives(scores, ScoresSpec{});
  ASSERT_EQ(mask.size(), 3u);
  const Array ref{{1, 3, 2}, {10, 10, 0, 0, 5, 5}};
  const Array test{{1, 3, 2}, {11, 7, 100, 100, 5, 7}};
  const auto r = evalRegress(ref, test, mask);
  EXPECT_EQ(r.compared, 4);
  EXPECT_DOUBLE_EQ(r.maxAbs, 3.0);
  EXPECT_DOUBLE_EQ(r.medianAbs, 1.5);
  // Without a mask every value counts: max 100.
  EXPECT_DOUBLE_EQ(evalRegress(ref, test, {}).maxAbs, 100.0);
  // A mask that does not divide the values is an error.
  EXPECT_THROW(evalRegress(ref, test, std::vector<char>(4, 1)), Error);
}

TEST(EvalSequence, GreedyCtcExactMatchAndCer) {
  // [N=2, T=5, C=3], blank 0. Steps as one-hot argmaxes:
  // float sample 0: 1 1 0 1 2 -> [1, 1, 2]; sample 1: 2 2 2 0 0 -> [2].
  // test  sample 0: 1 0 0 1 1 -> [1, 1];    sample 1: 2 0 2 0 0 -> [2, 2].
  // Exact 0 of 2; edits 1 + 1 over 3 + 1 reference characters -> CER 0.5.
  auto seq = [](std::vector<int> steps) {
    std::vector<float> d;
    for (int c : steps)
      for (int k = 0; k < 3; ++k) d.push_back(k == c ? 1.0f : 0.0f);
    return d;
  };
  Array ref{{2, 5, 3}, seq({1, 1, 0, 1, 2, 2, 2, 2, 0, 0})};
  Array test{{2, 5, 3}, seq({1, 0, 0, 1, 1, 2, 0, 2, 0, 0})};
  EXPECT_EQ(ctcGreedy(ref, 0), (std::vector<std::vector<int64_t>>{{1, 1, 2}, {2}}));
  const auto r = evalSequence(ref, test, 0);
  EXPECT_EQ(r.sequences, 2);
  EXPECT_DOUBLE_EQ(r.exactMatch, 0.0);
  EXPECT_DOUBLE_EQ(r.cer, 0.5);
  EXPECT_DOUBLE_EQ(evalSequence(ref, ref, 0).exactMatch, 1.0);
}

TEST(EvalSequence, EditDistance) {
  EXPECT_EQ(editDistance({1, 2, 3}, {1, 3}), 1);
  EXPECT_EQ(editDistance({}, {4, 4}), 2);
  EXPECT_EQ(editDistance({1, 2, 3, 4}, {2, 1, 3, 5}), 3);
}

TEST(EvalSnr, KnownRatio) {
  // Signal power 1+1 = 2 ... error 0.1^2 + 0.1^2 = 0.02 -> 10 log10(100) = 20 dB.
  const Array ref{{1, 2}, {1, -1}};
  const Array test{{1, 2}, {1.1f, -0.9f}};
  EXPECT_NEAR(snrDb(ref, test), 20.0, 1e-4);
  EXPECT_TRUE(std::isinf(snrDb(ref, ref)));
}

TEST(EvalScores, ActivationNames) {
  EXPECT_EQ(activationFromName("sigmoid"), Activation::sigmoid);
  EXPECT_THROW(activationFromName("tanh"), Error);
}

}  // namespace
}  // namespace kiln::eval
