// The quantization commands of model scripts that change a network's numbers, end to end through
// kiln compile (whose bit-exact check runs the .kef against the quantized emulation on
// calibration samples): weights_clipping (manual, percentile, mmse, mmse_if4b) and adaround
// (Kiln's error-compensating rounding), on a 3x3 convolution whose channels each hold one
// outlier weight.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "alls/alls.h"
#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/float_executor.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/flow/compile_flow.h"
#include "compiler/optimize/weights_clipping.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

constexpr int64_t kSide = 16;

// Conv weights [4, 3, 3, 3] in [-0.1, 0.1], except one outlier per output channel.
std::vector<float> weights() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  std::vector<float> w(4 * 27);
  for (float& v : w) v = u(rng);
  const float outliers[4] = {2.0f, -1.5f, 1.0f, -0.8f};
  for (int c = 0; c < 4; ++c) w[size_t(c * 27 + 13)] = outliers[c];
  return w;
}

std::string model() {
  std::ostringstream w;
  const std::vector<float> v = weights();
  for (size_t i = 0; i < v.size(); ++i) w << (i ? ", " : "") << v[i];
  return "<ir_version: 8, opset_import: [\"\" : 17]>\n"
         "g (float[1,3,16,16] x) => (float[1,4,16,16] y) {\n"
         "  w = Constant <value = float[4,3,3,3] {" +
         w.str() +
         "}> ()\n"
         "  b = Constant <value = float[4] {0.1, -0.2, 0.05, 0.0}> ()\n"
         "  y = Conv <pads = [1, 1, 1, 1]> (x, w, b)\n"
         "}";
}

struct Built {
  Graph g;
  std::vector<std::string> warnings;
  nlohmann::json report;  // optimize/report.json
};

Built build(const std::string& name, const std::string& script) {
  const std::string dir = ::testing::TempDir() + "/quant_commands_" + name;
  ::mkdir(dir.c_str(), 0755);
  const std::string onnxPath = dir + "/clip.onnx", calib = dir + "/calib.npy";
  {
    std::ofstream f(onnxPath, std::ios::binary);
    EXPECT_TRUE(parseText(model()).SerializeToOstream(&f));
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> x(size_t(16 * 3 * kSide * kSide));
  for (float& v : x) v = u(rng);
  npy::save(calib, npy::fromFloat(x, {16, 3, kSide, kSide}));
  flow::CompileOptions o;
  o.onnxPath = onnxPath;
  o.calibPath = calib;
  o.outputDir = dir;
  o.scriptText = script;
  Built b;
  o.warn = [&](const std::string& w) { b.warnings.push_back(w); };
  o.calibSize = 16;
  const flow::CompileResult r = flow::compileModel(o);  // includes the bit-exact .kef check
  const Archive a = readArchive(r.optimizedPath);
  b.g = a.graph;
  const std::vector<uint8_t>& rj = a.extra.at("optimize/report.json");
  b.report = nlohmann::json::parse(rj.begin(), rj.end());
  return b;
}

const Layer& conv(const Graph& g) {
  for (const Layer& l : g.layers)
    if (l.type == LayerType::Conv) return l;
  throw Error("no conv");
}

// What weights_clipping to [lo, hi] documents: each channel's scale is its largest clipped
// magnitude / 127 and each weight is round(clip(w, lo, hi) / scale).
void expectClippedTo(const Layer& l, double lo, double hi) {
  const std::vector<float> w = weights();
  const IntTensor& kq = l.qparam("kernel");
  ASSERT_EQ(kq.data.size(), w.size());
  for (int c = 0; c < 4; ++c) {
    double maxAbs = 0;
    for (int i = 0; i < 27; ++i)
      maxAbs = std::max(maxAbs, std::fabs(std::clamp(double(w[size_t(c * 27 + i)]), lo, hi)));
    const double s = maxAbs / 127;
    for (int i = 0; i < 27; ++i) {
      const size_t k = size_t(c * 27 + i);
      EXPECT_EQ(kq.data[k], std::llround(std::clamp(double(w[k]), lo, hi) / s))
          << "channel " << c << " weight " << i;
    }
  }
}

int64_t smallWeightLevels(const Layer& l) {
  // Distinct quantized values of the non-outlier weights: their resolution.
  std::vector<int64_t> v;
  const IntTensor& kq = l.qparam("kernel");
  for (size_t k = 0; k < kq.data.size(); ++k)
    if (k % 27 != 13) v.push_back(kq.data[k]);
  std::sort(v.begin(), v.end());
  return std::unique(v.begin(), v.end()) - v.begin();
}

TEST(QuantCommands, WithoutClippingTheOutlierSetsTheScale) {
  const Built b = build("none", "model_optimization_flavor(optimization_level=-100)\n");
  expectClippedTo(conv(b.g), -1e9, 1e9);
  EXPECT_FALSE(conv(b.g).hasAttr("weights_clip_hi"));
}

TEST(QuantCommands, WeightsClippingManual) {
  const std::string script =
      "model_optimization_flavor(optimization_level=-100)\n"
      "pre_quantization_optimization(weights_clipping, layers=[conv1], mode=manual, "
      "clipping_values=[-0.12, 0.12])\n";
  const Built b = build("manual", script);
  expectClippedTo(conv(b.g), -0.12, 0.12);
  // The small weights get 16x the resolution: far more distinct levels than without clipping.
  const Built none = build("none2", "model_optimization_flavor(optimization_level=-100)\n");
  EXPECT_GT(smallWeightLevels(conv(b.g)), 3 * smallWeightLevels(conv(none.g)));
  for (const std::string& w : b.warnings) EXPECT_EQ(w.find("weights_clipping"), std::string::npos);
  EXPECT_EQ(b.report["applied"].size(), 2u);
}

TEST(QuantCommands, WeightsClippingPercentile) {
  // Percentiles of the layer's weight values: 1 and 99 of 108 values cut the outliers.
  const Built b = build("percentile",
                        "model_optimization_flavor(optimization_level=0)\n"
                        "pre_quantization_optimization(weights_clipping, layers=[conv1], "
                        "mode=percentile, clipping_values=[1, 99])\n");
  const Layer& l = conv(b.g);
  ASSERT_TRUE(l.hasAttr("weights_clip_hi"));
  const double lo = l.attrFloats("weights_clip_lo")[0], hi = l.attrFloats("weights_clip_hi")[0];
  EXPECT_LT(hi, 1.0);
  EXPECT_GT(hi, 0.05);
  EXPECT_GT(lo, -1.5);
  expectClippedTo(l, lo, hi);
}

TEST(QuantCommands, WeightsClippingMmse) {
  const Built b = build("mmse",
                        "model_optimization_flavor(optimization_level=-100)\n"
                        "pre_quantization_optimization(weights_clipping, layers=[conv1], "
                        "mode=mmse)\n");
  const Layer& l = conv(b.g);
  ASSERT_TRUE(l.hasAttr("weights_clip_hi"));
  const std::vector<float> w = weights();
  for (int c = 0; c < 4; ++c) {
    const double t = l.attrFloats("weights_clip_hi")[size_t(c)];
    EXPECT_EQ(t, optimize::mmseClipBound(w.data() + c * 27, 27, 1, 127));
    EXPECT_EQ(l.attrFloats("weights_clip_lo")[size_t(c)], -t);
  }
  // mmse_if4b leaves 8-bit weights alone and clips 4-bit ones.
  const Built w8 = build("mmse8",
                         "model_optimization_flavor(optimization_level=-100)\n"
                         "pre_quantization_optimization(weights_clipping, "
                         "layers=[conv1], mode=mmse_if4b)\n");
  EXPECT_FALSE(conv(w8.g).hasAttr("weights_clip_hi"));
  expectClippedTo(conv(w8.g), -1e9, 1e9);
  const Built w4 = build("mmse4",
                         "model_optimization_flavor(optimization_level=-100)\n"
                         "quantization_param(conv1, precision_mode=a8_w4)\n"
                         "pre_quantization_optimization(weights_clipping, "
                         "layers=[conv1], mode=mmse_if4b)\n");
  ASSERT_TRUE(conv(w4.g).hasAttr("weights_clip_hi"));
  EXPECT_EQ(conv(w4.g).attrFloats("weights_clip_hi")[0],
            optimize::mmseClipBound(w.data(), 27, 1, 7));
}

TEST(QuantCommands, MmseBoundCutsAnOutlier) {
  // 99 values on a fine grid and one outlier 20x larger: clipping it costs less than the
  // rounding error it would put on all the others.
  std::vector<float> v;
  for (int i = 0; i < 99; ++i) v.push_back(0.03f * float(i % 21 - 10));
  v.push_back(1.0f);
  EXPECT_LT(optimize::mmseClipBound(v.data(), v.size(), 1, 7), 1.0);
  // Values spread evenly up to their maximum keep it.
  std::vector<float> even;
  for (int i = -127; i <= 127; ++i) even.push_back(float(i) / 127);
  EXPECT_EQ(optimize::mmseClipBound(even.data(), even.size(), 1, 127), 1.0);
}

TEST(QuantCommands, AdaroundRunsErrorCompensatingRounding) {
  const Built level1 = build("level1", "model_optimization_flavor(optimization_level=1)\n");
  const Built ada = build("adaround",
                          "model_optimization_flavor(optimization_level=1)\n"
                          "post_quantization_optimization(adaround, policy=enabled, epochs=100)\n");
  // The rounding moved weights off nearest; the report says what adaround maps to.
  EXPECT_NE(conv(ada.g).qparam("kernel").data, conv(level1.g).qparam("kernel").data);
  ASSERT_EQ(ada.report["accepted"].size(), 1u);
  EXPECT_NE(ada.report["accepted"][0].get<std::string>().find(
                "applied as Kiln's error-compensating weight rounding"),
            std::string::npos);
  // Level 2 rounds the same way; policy=disabled turns it off there.
  const Built level2 = build("level2", "model_optimization_flavor(optimization_level=2)\n");
  EXPECT_EQ(conv(level2.g).qparam("kernel").data, conv(ada.g).qparam("kernel").data);
  const Built off = build("adaround_off",
                          "model_optimization_flavor(optimization_level=2)\n"
                          "post_quantization_optimization(adaround, policy=disabled)\n");
  EXPECT_EQ(conv(off.g).qparam("kernel").data, conv(level1.g).qparam("kernel").data);
}

TEST(QuantCommands, WeightsClippingErrors) {
  EXPECT_THROW(build("bad_range",
                     "pre_quantization_optimization(weights_clipping, "
                     "layers=[conv1], mode=manual, clipping_values=[0.1, 0.5])\n"),
               std::exception);
  EXPECT_THROW(build("no_values",
                     "pre_quantization_optimization(weights_clipping, "
                     "layers=[conv1], mode=manual)\n"),
               std::exception);
}

// logits_layer(fc1, softmax, -1, cpu), as the zoo's EfficientNet-Lite scripts write it: the
// network's output becomes the softmax of fc1's logits, run in the network (bit-exact between the
// .kef and the emulation: compileModel checks it).
TEST(QuantCommands, LogitsLayerSoftmax) {
  const std::string dir = ::testing::TempDir() + "/quant_commands_logits";
  ::mkdir(dir.c_str(), 0755);
  const std::string onnxPath = dir + "/fc.onnx", calib = dir + "/calib.npy";
  {
    std::ofstream f(onnxPath, std::ios::binary);
    EXPECT_TRUE(parseText("<ir_version: 8, opset_import: [\"\" : 17]>\n"
                          "g (float[1,8] x) => (float[1,5] y) {\n"
                          "  w = Constant <value = " +
                          tensorLiteral({8, 5}, 11) +
                          "> ()\n"
                          "  b = Constant <value = " +
                          tensorLiteral({5}, 12) +
                          "> ()\n"
                          "  y = Gemm (x, w, b)\n"
                          "}")
                    .SerializeToOstream(&f));
  }
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<float> x(16 * 8);
  for (float& v : x) v = u(rng);
  npy::save(calib, npy::fromFloat(x, {16, 8}));
  flow::CompileOptions o;
  o.onnxPath = onnxPath;
  o.calibPath = calib;
  o.calibSize = 16;
  o.outputDir = dir;
  o.scriptText = "logits_layer1 = logits_layer(fc1, softmax, -1, cpu)\n";
  const flow::CompileResult r = flow::compileModel(o);
  const Graph g = readArchive(r.optimizedPath).graph;
  const int out = g.outputLayers().at(0);
  const Layer& sm = g.at(g.at(out).inputs.at(0).layer);
  ASSERT_EQ(sm.type, LayerType::Softmax);
  EXPECT_EQ(sm.attrInt("axis"), 1);
  EXPECT_EQ(g.at(sm.inputs.at(0).layer).type, LayerType::Fc);
  // The float network's output is a probability vector.
  const FloatBuffer in{{1, 8}, std::vector<float>(x.begin(), x.begin() + 8)};
  const std::vector<float> p = runFloat(g, {in})[0].data;
  ASSERT_EQ(p.size(), 5u);
  double sum = 0;
  for (float v : p) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-5);
  // The quantized network (8-bit probabilities, step 1/255) follows it.
  const std::vector<float> q =
      dequantize(runQuantized(g, {in})[0], g.at(out).outputQuant.at(0)).data;
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(q[i], p[i], 0.03) << i;
  // argmax is not applied: reported, the network unchanged.
  const auto diags =
      alls::validateScript(alls::parseScript("logits_layer(fc1, argmax, -1, cpu)\n", "t.alls"));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_TRUE(diags[0].notApplied);
}

}  // namespace
}  // namespace kiln::test
