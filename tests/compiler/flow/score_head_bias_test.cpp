// Bias correction of a score head in its decision zone (docs/arithmetic.md §2): a synthetic head
// whose weight rounding shifts the logits that decide (the faces) and not the far-negative
// background that makes up almost all of its outputs. The mean error over all positions is ~0, so
// measured there the correction leaves the faces' logits shrunk; measured where the float logit
// is >= -max (the positive side mirrored) it removes the shift.
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>

#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/flow/compile_flow.h"
#include "compiler/optimize/sequential_correction.h"
#include "tests/support/flow_test_util.h"

namespace kiln::test {
namespace {

constexpr int64_t kSide = 32;

// logit = 2.4 f - 127 b: on one per-channel weight scale (127 / 127 = 1) the background weight
// is exact and the face weight rounds to 2, so every face logit loses 0.4 f (0.2 to 0.4).
const char* kModel =
    "<ir_version: 8, opset_import: [\"\" : 17]>\n"
    "g (float[1,2,32,32] x) => (float[1,1,32,32] logits) {\n"
    "  w = Constant <value = float[1,2,1,1] {2.4, -127.0}> ()\n"
    "  logits = Conv (x, w)\n}";

// n samples [n, 2, 32, 32]: 1 % of the positions are faces (f in [0.5, 1], b = 0, logits 1.2 to
// 2.4); the background has f in [0, 0.02] and b in [0.05, 0.1] (logits -6 to -13), 1 % of it a
// tail up to 1 (-127).
std::vector<float> samples(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const int64_t plane = kSide * kSide;
  std::vector<float> v(size_t(n * 2 * plane));
  for (int s = 0; s < n; ++s)
    for (int64_t p = 0; p < plane; ++p) {
      float& f = v[size_t((s * 2) * plane + p)];
      float& b = v[size_t((s * 2 + 1) * plane + p)];
      if (u(rng) < 0.01f) {
        f = 0.5f + 0.5f * u(rng);
        b = 0.f;
      } else {
        f = 0.02f * u(rng);
        b = u(rng) < 0.01f ? 0.1f + 0.9f * u(rng) : 0.05f + 0.05f * u(rng);
      }
    }
  return v;
}

Graph build(const std::string& dir, const std::string& script) {
  return readArchive(compileTextModel(dir, "score_head.onnx", kModel, samples(32, 1),
                                      {32, 2, kSide, kSide}, script)
                         .optimizedPath)
      .graph;
}

// Mean of (quantized - float) over the held-out positions whose float logit is positive.
double meanFaceError(const Graph& g, int& faces) {
  const std::vector<float> x = samples(16, 2);
  const int64_t per = 2 * kSide * kSide;
  double sum = 0;
  faces = 0;
  for (int s = 0; s < 16; ++s) {
    FloatBuffer in{{1, 2, kSide, kSide},
                   std::vector<float>(x.begin() + s * per, x.begin() + (s + 1) * per)};
    const std::vector<float> f = runFloat(g, {in})[0].data;
    const std::vector<float> q =
        dequantize(runQuantized(g, {in})[0], g.at(g.outputLayers()[0]).outputQuant[0]).data;
    for (size_t i = 0; i < f.size(); ++i)
      if (f[i] > 0) {
        ++faces;
        sum += double(q[i]) - double(f[i]);
      }
  }
  return faces ? sum / faces : 0;
}

TEST(ScoreHeadBias, CorrectedInTheDecisionZone) {
  const std::string dir = ::testing::TempDir() + "/score_head_bias";
  int faces = 0;
  // Without bias correction the faces carry the weight rounding's shift (-0.3 on average).
  const Graph off =
      build(dir + "_off", "post_quantization_optimization(bias_correction, policy=disabled)\n");
  const double before = meanFaceError(off, faces);
  ASSERT_GT(faces, 100);
  EXPECT_LT(before, -0.2);
  // Default (level 1): corrected where the logits decide.
  const Graph on = build(dir, "");
  const double after = meanFaceError(on, faces);
  EXPECT_LT(std::abs(after), 0.06) << "before " << before;
}

TEST(ScoreHeadBias, ZoneOnlyForScoreLikeDecisionTensors) {
  const double inf = std::numeric_limits<double>::infinity();
  // A score head's logits: both signs, the negative side longer: zone [-max, inf).
  // A box regressor (positive side longer), a non-decision tensor, a ReLU output: no zone.
  const auto floors = optimize::decisionZoneFloors(
      {true, true, false, true, true},
      {{-430.8, 2.2}, {-101.3, 234.7}, {-430.8, 2.2}, {0.0, 7.0}, {-5.0, 0.0}});
  ASSERT_EQ(floors.size(), 5u);
  EXPECT_DOUBLE_EQ(floors[0], -2.2);
  for (size_t i = 1; i < floors.size(); ++i) EXPECT_EQ(floors[i], -inf) << i;
}

}  // namespace
}  // namespace kiln::test
