// Saturation bounds end to end: logits read only by a standalone sigmoid (a reshape between) are
// mostly far below where the sigmoid's 8-bit output stops changing. Their range is searched
// within the bound (the report says so, and nothing is reported as lost), and the quantized
// sigmoid output is closer to float than with the calibrated min/max range.
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/flow/compile_flow.h"
#include "tests/support/flow_test_util.h"

namespace kiln::test {
namespace {

// logits = 40 x - 30 (x in [0, 1]), reshaped, then a sigmoid: the input is 16 bits (the script
// below) so that the logits' own 8-bit grid is what limits the output.
const char* kModel =
    "<ir_version: 8, opset_import: [\"\" : 17]>\n"
    "g (float[1,1,32,32] x) => (float[1,1024] p) {\n"
    "  w = Constant <value = float[1,1,1,1] {40.0}> ()\n"
    "  b = Constant <value = float[1] {-30.0}> ()\n"
    "  sh = Constant <value = int64[2] {1, 1024}> ()\n"
    "  l = Conv (x, w, b)\n  r = Reshape (l, sh)\n  p = Sigmoid (r)\n}";

// 70 % background (logits in [-30, -8]), 30 % in [-5, 5]; a few up to 10.
std::vector<float> samples(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v(size_t(n) * 1024);
  for (float& x : v) {
    const float r = u(rng);
    const float logit = r < 0.7f    ? -30.f + 22.f * u(rng)
                        : r < 0.99f ? -5.f + 10.f * u(rng)
                                    : 10.f * u(rng);
    x = (logit + 30.f) / 40.f;
  }
  v[0] = 0.f, v[1] = 1.f;  // the calibrated range is [-30, 10]
  return v;
}

Graph build(const std::string& dir, const std::string& extra, nlohmann::json* report) {
  std::vector<std::string> warnings;
  const flow::CompileResult r = compileTextModel(
      dir, "sat.onnx", kModel, samples(16, 1), {16, 1, 32, 32},
      "quantization_param(input_layer1, precision_mode=a16_w16)\n" + extra, &warnings);
  for (const std::string& w : warnings) EXPECT_EQ(w.find("excludes"), std::string::npos) << w;
  const Archive a = readArchive(r.optimizedPath);
  if (report) {
    const std::vector<uint8_t>& bytes = a.extra.at("optimize/report.json");
    *report = nlohmann::json::parse(bytes.begin(), bytes.end());
  }
  return a.graph;
}

// Mean absolute error of the quantized sigmoid output against float, on held-out samples.
double outputError(const Graph& g) {
  const std::vector<float> x = samples(8, 2);
  double sum = 0;
  size_t n = 0;
  for (int s = 0; s < 8; ++s) {
    FloatBuffer in{{1, 1, 32, 32},
                   std::vector<float>(x.begin() + s * 1024, x.begin() + (s + 1) * 1024)};
    const std::vector<float> f = runFloat(g, {in})[0].data;
    const std::vector<float> q =
        dequantize(runQuantized(g, {in})[0], g.at(g.outputLayers()[0]).outputQuant[0]).data;
    for (size_t i = 0; i < f.size(); ++i, ++n) sum += std::fabs(double(q[i]) - double(f[i]));
  }
  return sum / double(n);
}

TEST(SaturationBound, SigmoidInputRangeEndsWhereTheOutputStopsChanging) {
  nlohmann::json report;
  const Graph g = build(::testing::TempDir() + "/saturation_default", "", &report);
  const Graph mm = build(::testing::TempDir() + "/saturation_minmax",
                         "quantization_param(conv1, force_range_out=[-30, 10])\n", nullptr);
  bool seen = false;
  for (const auto& l : report.at("layers"))
    if (l.at("layer") == "conv1") {
      seen = true;
      ASSERT_TRUE(l.contains("saturation_bound")) << l.dump();
      // sigmoid(x) < 1/1020 below x = -6.93: the range's lower end is there, not at -30.
      EXPECT_NEAR(l.at("saturation_bound")[0].get<double>(), -6.93, 0.05) << l.dump();
      EXPECT_GE(l.at("range")[0].get<double>(), -7.2) << l.dump();
    }
  EXPECT_TRUE(seen);
  const double bounded = outputError(g), minmax = outputError(mm);
  EXPECT_LT(bounded, 0.6 * minmax) << "bounded " << bounded << ", min/max " << minmax;
}

}  // namespace
}  // namespace kiln::test
