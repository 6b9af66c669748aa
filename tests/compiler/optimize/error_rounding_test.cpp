// Error-compensating weight rounding (optimize/error_rounding.h): on smooth, correlated inputs
// the rounded conv and depthwise weights give a smaller output error than rounding to nearest,
// measured here independently with a direct double-precision convolution, on the samples used and
// on held-out ones; the integers keep their scale and clamp; the result is deterministic; layers
// with too few input positions are left alone.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/emulator/quant_executor.h"
#include "compiler/optimize/error_rounding.h"
#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 17]>\n";

// A smooth image (low spatial frequencies, channel-dependent phases) plus a little noise.
FloatBuffer smoothInput(int64_t C, int64_t H, int64_t W, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> phase(0.f, 6.28f), noise(-0.02f, 0.02f);
  FloatBuffer x{{1, C, H, W}, {}};
  for (int64_t c = 0; c < C; ++c) {
    const float a = phase(rng), b = phase(rng);
    for (int64_t y = 0; y < H; ++y)
      for (int64_t i = 0; i < W; ++i)
        x.data.push_back(std::sin(0.21f * float(i) + a) * std::cos(0.17f * float(y) + b) +
                         noise(rng));
  }
  return x;
}

struct ConvCase {
  Graph g;
  int conv = -1;
  std::vector<std::vector<FloatBuffer>> calib, heldOut;
};

ConvCase makeCase(int64_t C, int64_t K, int64_t group, int64_t H, const std::string& mode) {
  const int64_t cg = C / group;
  ConvCase t;
  const std::string body =
      "g (float[1," + std::to_string(C) + "," + std::to_string(H) + "," + std::to_string(H) +
      "] x) => (float[1," + std::to_string(K) + "," + std::to_string(H) + "," + std::to_string(H) +
      "] y) {\n  w = Constant <value = " + tensorLiteral({K, cg, 3, 3}, 7, -1, 1) +
      "> ()\n  y = Conv <group = " + std::to_string(group) + ", pads = [1, 1, 1, 1]> (x, w)\n}";
  t.g = importText(std::string(kHeader) + body);
  for (unsigned s = 0; s < 8; ++s) t.calib.push_back({smoothInput(C, H, H, 10 + s)});
  for (unsigned s = 0; s < 4; ++s) t.heldOut.push_back({smoothInput(C, H, H, 100 + s)});
  const quant::CalibStats stats = quant::collectStats(t.g, t.calib);
  quant::PrepareOptions opts;
  quant::LayerPrecision p;
  EXPECT_TRUE(quant::parsePrecisionMode(mode, p.mode));
  for (size_t i = 0; i < t.g.layers.size(); ++i) opts.precision[int(i)] = p;
  quant::prepareQuantization(t.g, stats, opts);
  for (size_t i = 0; i < t.g.layers.size(); ++i)
    if (t.g.layers[i].type == LayerType::Conv || t.g.layers[i].type == LayerType::Dw)
      t.conv = int(i);
  return t;
}

// Sum over samples of the squared output difference between the float kernel and the integer
// kernel times its scales, both applied (direct convolution, stride 1, pad 1) to the quantized
// input with its zero point removed.
double outputError(const Layer& l, const std::vector<IntBuffer>& xs, int64_t zp, double inScale) {
  const Tensor& kf = l.param("kernel");
  const IntTensor& kq = l.qparam("kernel");
  const std::vector<double> acc = quant::linearAccScale(l, inScale, kq.bits);
  const int64_t K = kf.shape[0], cg = kf.shape[1], group = l.attrInt("group", 1);
  double total = 0;
  for (const IntBuffer& x : xs) {
    const int64_t H = x.shape[2], W = x.shape[3], kg = K / group;
    for (int64_t k = 0; k < K; ++k) {
      const double sw = acc[size_t(k)] / inScale;
      const int64_t c0 = (k / kg) * cg;
      for (int64_t y = 0; y < H; ++y)
        for (int64_t i = 0; i < W; ++i) {
          double d = 0;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx) {
                const int64_t iy = y + ky - 1, ix = i + kx - 1;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const double v = double(x.data[size_t(((c0 + c) * H + iy) * W + ix)] - zp);
                const size_t w = size_t(((k * cg + c) * 3 + ky) * 3 + kx);
                d += v * (double(kf.data[w]) - double(kq.data[w]) * sw);
              }
          total += d * d;
        }
    }
  }
  return total;
}

std::vector<IntBuffer> quantizedInputs(const ConvCase& t,
                                       const std::vector<std::vector<FloatBuffer>>& samples) {
  std::vector<IntBuffer> xs;
  const QuantInfo& q = t.g.at(t.g.inputLayers()[0]).outputQuant[0];
  for (const auto& s : samples) xs.push_back(quantizeInput(s[0], q));
  return xs;
}

void expectBetterThanNearest(int64_t C, int64_t K, int64_t group, const std::string& mode,
                             double minGainDb) {
  ConvCase t = makeCase(C, K, group, 24, mode);
  ASSERT_GE(t.conv, 0);
  Layer& l = t.g.layers[size_t(t.conv)];
  const QuantInfo& in = t.g.at(t.g.inputLayers()[0]).outputQuant[0];
  const std::vector<IntBuffer> xs = quantizedInputs(t, t.calib),
                               held = quantizedInputs(t, t.heldOut);
  const double nearestFit = outputError(l, xs, in.zeroPoint, in.scale);
  const double nearestHeld = outputError(l, held, in.zeroPoint, in.scale);
  const IntTensor nearest = l.qparam("kernel");

  std::vector<const IntBuffer*> ptrs;
  for (const IntBuffer& x : xs) ptrs.push_back(&x);
  const optimize::RoundingResult r = optimize::compensateRounding(l, in, ptrs);
  ASSERT_TRUE(r.applied);
  EXPECT_LT(r.chosenError, r.nearestError);

  const IntTensor& chosen = l.qparam("kernel");
  const int64_t qmax = quant::weightQmax(chosen.bits);
  int changed = 0;
  for (size_t i = 0; i < chosen.data.size(); ++i) {
    EXPECT_LE(std::abs(chosen.data[i]), qmax);
    changed += chosen.data[i] != nearest.data[i];
  }
  EXPECT_GT(changed, 0);
  const double fit = outputError(l, xs, in.zeroPoint, in.scale);
  const double heldOut = outputError(l, held, in.zeroPoint, in.scale);
  const double gainFit = 10 * std::log10(nearestFit / fit);
  const double gainHeld = 10 * std::log10(nearestHeld / heldOut);
  std::cout << mode << " group " << group << ": output error " << gainFit
            << " dB below nearest on the samples used, " << gainHeld << " dB held out\n";
  // The function's own figure is the same quantity as this independent one.
  EXPECT_NEAR(r.nearestError / r.chosenError, nearestFit / fit, 1e-6 * nearestFit / fit);
  EXPECT_GT(gainFit, minGainDb);
  EXPECT_GT(gainHeld, minGainDb);

  // Deterministic: the same inputs give the same integers.
  ConvCase again = makeCase(C, K, group, 24, mode);
  Layer& l2 = again.g.layers[size_t(again.conv)];
  optimize::compensateRounding(l2, in, ptrs);
  EXPECT_EQ(l2.qparam("kernel").data, chosen.data);
}

TEST(ErrorRounding, DenseConvBeatsNearestOnCorrelatedInputs) {
  expectBetterThanNearest(4, 6, 1, "a8_w8", 3.0);
}

TEST(ErrorRounding, FourBitWeightsGainTheMost) {
  expectBetterThanNearest(4, 6, 1, "a8_w4", 3.0);
}

TEST(ErrorRounding, DepthwiseChannelsEachUseTheirOwnInputs) {
  expectBetterThanNearest(6, 6, 6, "a8_w8", 1.0);
}

TEST(ErrorRounding, TooFewPositionsLeaveTheLayerAlone) {
  // 2x2 input: 4 positions per sample, 8 samples = 32 rows for 4 * 9 = 36 inputs (< 2x).
  ConvCase t = makeCase(4, 6, 1, 2, "a8_w8");
  Layer& l = t.g.layers[size_t(t.conv)];
  const IntTensor before = l.qparam("kernel");
  const std::vector<IntBuffer> xs = quantizedInputs(t, t.calib);
  std::vector<const IntBuffer*> ptrs;
  for (const IntBuffer& x : xs) ptrs.push_back(&x);
  EXPECT_FALSE(
      optimize::compensateRounding(l, t.g.at(t.g.inputLayers()[0]).outputQuant[0], ptrs).applied);
  EXPECT_EQ(l.qparam("kernel").data, before.data);
}

}  // namespace
}  // namespace kiln::test
