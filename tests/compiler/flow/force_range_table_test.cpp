// force_range_out pins a layer's output grid and nothing else: on a layer whose activation is a
// table (sigmoid here), the table's input span stays the calibrated pre-activation range. (It
// used to be set to the pinned output range too, so a sigmoid pinned at its own [0, 1] read
// only the logits in [0, 1] and every negative logit came out as 0.5.)
#include <algorithm>
#include <cmath>
#include <random>

#include "compiler/archive/archive.h"
#include "compiler/emulator/float_executor.h"
#include "compiler/emulator/quant_executor.h"
#include "tests/support/flow_test_util.h"

namespace kiln::test {
namespace {

constexpr int64_t kSide = 8;

const char* kModel =
    "<ir_version: 8, opset_import: [\"\" : 17]>\n"
    "g (float[1,1,8,8] x) => (float[1,1,8,8] y) {\n"
    "  w = Constant <value = float[1,1,1,1] {1.0}> ()\n"
    "  u = Conv (x, w)\n"
    "  y = Sigmoid (u)\n}";

// n samples [n, 1, 8, 8], logits uniform in [-6, 6].
std::vector<float> samples(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-6.f, 6.f);
  std::vector<float> v(size_t(n * kSide * kSide));
  for (float& x : v) x = u(rng);
  return v;
}

// The largest |quantized - float| output over held-out samples.
double worstError(const Graph& g) {
  const std::vector<float> x = samples(4, 2);
  const int64_t per = kSide * kSide;
  double worst = 0;
  for (int s = 0; s < 4; ++s) {
    FloatBuffer in{{1, 1, kSide, kSide},
                   std::vector<float>(x.begin() + s * per, x.begin() + (s + 1) * per)};
    const std::vector<float> f = runFloat(g, {in})[0].data;
    const std::vector<float> q =
        dequantize(runQuantized(g, {in})[0], g.at(g.outputLayers()[0]).outputQuant[0]).data;
    for (size_t i = 0; i < f.size(); ++i) worst = std::max(worst, std::abs(double(q[i] - f[i])));
  }
  return worst;
}

Graph build(const std::string& dir, const std::string& script) {
  const flow::CompileResult r = compileTextModel(dir, "sigmoid.onnx", kModel, samples(16, 1),
                                                 {16, 1, kSide, kSide}, script);
  return readArchive(r.optimizedPath).graph;
}

TEST(ForceRangeOut, PinsTheOutputGridNotTheTableInput) {
  const Graph free = build(::testing::TempDir() + "/force_range_free", "");
  ASSERT_EQ(free.outputLayers().size(), 1u);
  // The layer before the output layer: the convolution with the sigmoid fused into it.
  const Layer& table = free.at(free.at(free.outputLayers()[0]).inputs.at(0).layer);
  ASSERT_EQ(table.activation.kind, ActKind::Sigmoid);
  const std::string layer = table.name;
  const Graph pinned = build(::testing::TempDir() + "/force_range_pinned",
                             "quantization_param(" + layer + ", force_range_out=[0.0, 1.0])\n");
  const QuantInfo& q = pinned.at(pinned.find(layer)).outputQuant[0];
  EXPECT_NEAR(q.min, 0.0, 0.005);  // the pin took effect on the output grid (to a step)
  EXPECT_NEAR(q.max, 1.0, 0.005);
  // One 8-bit step of [0, 1] is 0.004; the table interpolates the sigmoid over [-6, 6].
  EXPECT_LT(worstError(free), 0.01);
  EXPECT_LT(worstError(pinned), 0.01);
}

}  // namespace
}  // namespace kiln::test
