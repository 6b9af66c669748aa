// The held-aside face detector's failure, reproduced on a synthetic score head: its logits are
// mostly negative (a bulk in [-31, -0.5] and a sparse tail down to about -1562) with rare
// small positives (the faces, in [0.5, 3.5]). On the whole range an 8-bit step is ~6, so every
// positive logit quantizes to 0 or is clipped, and no score crosses 0.5. The quantized build
// (default a8_w8, kiln compile's own bit-exact check included) must keep the positives; a range
// that loses them (forced here with the failing range [-1561.8, 0]) must be reported.
#include <sys/stat.h>

#include <fstream>
#include <random>

#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/flow/compile_flow.h"
#include "tests/support/flow_test_util.h"

namespace kiln::test {
namespace {

constexpr int64_t kSide = 32;

// Two input channels in [0, 1]: evidence e and background b; logit = (4 e - 0.5) + (-1562 b), a
// convolution per channel (one would quantize its weights 4 and -1562 on one scale, and lose the
// evidence there already) and their sum, the decision tensor.
const char* kModel =
    "<ir_version: 8, opset_import: [\"\" : 17]>\n"
    "g (float[1,2,32,32] x) => (float[1,1,32,32] logits) {\n"
    "  a0 = Constant <value = int64[1] {0}> ()\n"
    "  a1 = Constant <value = int64[1] {1}> ()\n"
    "  a2 = Constant <value = int64[1] {2}> ()\n"
    "  ax = Constant <value = int64[1] {1}> ()\n"
    "  xe = Slice (x, a0, a1, ax)\n"
    "  xb = Slice (x, a1, a2, ax)\n"
    "  we = Constant <value = float[1,1,1,1] {4.0}> ()\n"
    "  be = Constant <value = float[1] {-0.5}> ()\n"
    "  wb = Constant <value = float[1,1,1,1] {-1562.0}> ()\n"
    "  le = Conv (xe, we, be)\n"
    "  lb = Conv (xb, wb)\n"
    "  logits = Add (le, lb)\n}";

// n samples [n, 2, 32, 32]: 0.4 % of the positions are faces (b = 0, e in [0.25, 1]); the
// background has e in [0, 0.1] and b mostly in [0, 0.02], 1 % of it in [0.02, 1].
std::vector<float> samples(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const int64_t plane = kSide * kSide;
  std::vector<float> v(size_t(n * 2 * plane));
  for (int s = 0; s < n; ++s)
    for (int64_t p = 0; p < plane; ++p) {
      float& e = v[size_t((s * 2) * plane + p)];
      float& b = v[size_t((s * 2 + 1) * plane + p)];
      if (u(rng) < 0.004f) {
        e = 0.25f + 0.75f * u(rng);
        b = 0.f;
      } else {
        e = 0.1f * u(rng);
        b = u(rng) < 0.01f ? 0.02f + 0.98f * u(rng) : 0.02f * u(rng);
      }
    }
  return v;
}

struct Built {
  Graph g;
  std::vector<std::string> warnings;
};

Built build(const std::string& dir, const std::string& script) {
  Built b;
  const flow::CompileResult r = compileTextModel(dir, "score_head.onnx", kModel, samples(32, 1),
                                                 {32, 2, kSide, kSide}, script, &b.warnings);
  b.g = readArchive(r.optimizedPath).graph;
  return b;
}

// Of the held-out positions whose float logit is positive (above 0.25: clear decisions), the
// fraction whose quantized logit is positive too; and of the negatives, the fraction kept
// negative or zero.
void agreement(const Graph& g, double& positivesKept, double& negativesKept, int& positives) {
  const std::vector<float> x = samples(16, 2);
  const int64_t per = 2 * kSide * kSide;
  int keptPos = 0, neg = 0, keptNeg = 0;
  positives = 0;
  for (int s = 0; s < 16; ++s) {
    FloatBuffer in{{1, 2, kSide, kSide},
                   std::vector<float>(x.begin() + s * per, x.begin() + (s + 1) * per)};
    const std::vector<float> f = runFloat(g, {in})[0].data;
    const std::vector<float> q =
        dequantize(runQuantized(g, {in})[0], g.at(g.outputLayers()[0]).outputQuant[0]).data;
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] > 0.25f) {
        ++positives;
        keptPos += q[i] > 0;
      } else if (f[i] < -0.25f) {
        ++neg;
        keptNeg += q[i] <= 0;
      }
    }
  }
  positivesKept = positives ? double(keptPos) / positives : 0;
  negativesKept = neg ? double(keptNeg) / neg : 0;
}

TEST(ScoreHeadRanges, QuantizedBuildKeepsThePositiveLogits) {
  const Built b = build(::testing::TempDir() + "/score_head_default", "");
  double pos = 0, neg = 0;
  int n = 0;
  agreement(b.g, pos, neg, n);
  ASSERT_GT(n, 20);
  EXPECT_GE(pos, 0.97) << n << " positive logits";
  EXPECT_GE(neg, 0.99);
  // The output keeps its calibrated top and resolves its positive side.
  const QuantInfo& q = b.g.at(b.g.outputLayers()[0]).outputQuant[0];
  EXPECT_GE(double(q.qmax() - q.zeroPoint) * q.scale, 3.4);
  EXPECT_GE(q.qmax() - q.zeroPoint, 32);
  for (const std::string& w : b.warnings) EXPECT_EQ(w.find("excludes"), std::string::npos) << w;
}

TEST(ScoreHeadRanges, TheHeldAsideRangeIsCaughtAndReported) {
  const Built b = build(::testing::TempDir() + "/score_head_forced",
                        "quantization_param(ew_add1, force_range_out=[-1561.8, 0.0])\n");
  double pos = 0, neg = 0;
  int n = 0;
  agreement(b.g, pos, neg, n);
  EXPECT_EQ(pos, 0.0);  // the failure itself: no positive logit survives
  bool reported = false;
  for (const std::string& w : b.warnings)
    if (w.find("layer ew_add1") != std::string::npos &&
        w.find("of its positive values") != std::string::npos &&
        w.find("decision tensor") != std::string::npos)
      reported = true;
  EXPECT_TRUE(reported) << "no range warning for ew_add1";
}

}  // namespace
}  // namespace kiln::test
