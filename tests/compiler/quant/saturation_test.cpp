// Saturation bounds: a tensor read only by saturating activations needs no range beyond where
// their quantized outputs stop changing.
#include <cmath>

#include "compiler/quant/quant_math.h"
#include "compiler/quant/saturation.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

// conv1 -> reshape -> sigmoid -> output (the sigmoid stands alone: a reshape is between);
// conv2 -> sigmoid and conv2 -> output (conv2's values are also an output: no bound).
Graph twoHeads() {
  return importText(
      "<ir_version: 8, opset_import: [\"\" : 17]>\n"
      "g (float[1,4,8,8] x) => (float[1,64] p, float[1,1,8,8] q, float[1,1,8,8] r) {\n"
      "  w1 = Constant <value = " +
      tensorLiteral({1, 4, 1, 1}, 1) +
      "> ()\n"
      "  w2 = Constant <value = " +
      tensorLiteral({1, 4, 1, 1}, 2) +
      "> ()\n"
      "  sh = Constant <value = int64[2] {1, 64}> ()\n"
      "  a = Conv (x, w1)\n  b = Reshape (a, sh)\n  p = Sigmoid (b)\n"
      "  r = Conv (x, w2)\n  q = Sigmoid (r)\n}");
}

int layerOfType(const Graph& g, LayerType t, int nth = 0) {
  for (size_t i = 0; i < g.layers.size(); ++i)
    if (g.layers[i].type == t && nth-- == 0) return int(i);
  return -1;
}

TEST(Saturation, SigmoidInputNeedsNoRangeBeyondTheOutputsLowestAndHighestLevels) {
  const Graph g = twoHeads();
  std::vector<quant::Range> calibrated(g.layers.size(), quant::Range{-40.0, 12.0});
  std::vector<quant::Range> ranges(g.layers.size(), quant::Range{0.0, 1.0});
  const std::vector<int> bits(g.layers.size(), 8);
  const auto b = quant::saturationBounds(g, calibrated, ranges, bits);
  const int conv1 = layerOfType(g, LayerType::Conv, 0), conv2 = layerOfType(g, LayerType::Conv, 1);
  ASSERT_GE(conv1, 0) << layerTypes(g);
  ASSERT_GE(conv2, 0) << layerTypes(g);
  // The sigmoid's 8-bit output [0, 1] has steps of 1/255: below logit(1/1020) every input reads
  // as level 0, above logit(1 - 1/1020) as level 255.
  ASSERT_TRUE(b[size_t(conv1)].valid()) << layerTypes(g);
  const double edge = std::log((1.0 / 1020) / (1 - 1.0 / 1020));
  EXPECT_NEAR(b[size_t(conv1)].min, edge, 1e-6);
  EXPECT_NEAR(b[size_t(conv1)].max, -edge, 1e-4);  // sigmoid in float32 near 1
  // conv2's output is also a network output: every value of it shows.
  EXPECT_FALSE(b[size_t(conv2)].valid());
  // Layers that keep their input's quantization are bounded at the layer that owns it.
  EXPECT_FALSE(b[size_t(conv1) + 1].valid());
}

TEST(Saturation, TheBoundFollowsTheActivationsOutputGridAndOnlyBoundsSaturatedSides) {
  const Graph g = twoHeads();
  const int conv1 = layerOfType(g, LayerType::Conv, 0);
  const int sig = layerOfType(g, LayerType::Activation, 0);
  ASSERT_GE(sig, 0) << layerTypes(g);
  std::vector<quant::Range> calibrated(g.layers.size(), quant::Range{-40.0, 1.0});
  std::vector<quant::Range> ranges(g.layers.size(), quant::Range{0.0, 0.75});
  std::vector<int> bits(g.layers.size(), 8);
  auto b = quant::saturationBounds(g, calibrated, ranges, bits);
  // The top (sigmoid(1) = 0.731, below the grid's last level 0.75) is not saturated in [-40, 1].
  EXPECT_EQ(b[size_t(conv1)].max, std::numeric_limits<double>::infinity());
  const double quarter = 0.75 / 255 / 4;
  EXPECT_NEAR(b[size_t(conv1)].min, std::log(quarter / (1 - quarter)), 1e-6);
  // A 16-bit output resolves 256 times finer: its bound lies further out.
  bits[size_t(sig)] = 16;
  b = quant::saturationBounds(g, calibrated, ranges, bits);
  const double q16 = 0.75 / 65535 / 4;
  EXPECT_NEAR(b[size_t(conv1)].min, std::log(q16 / (1 - q16)), 1e-6);
  // A calibrated range that never reaches saturation has no bound.
  calibrated[size_t(conv1)] = quant::Range{-3.0, 1.0};
  b = quant::saturationBounds(g, calibrated, ranges, bits);
  EXPECT_FALSE(b[size_t(conv1)].valid());
}

}  // namespace
}  // namespace kiln::test
