// Range selection for tensors read channel by channel (compiler/quant/channel_range.h): channels
// spanning 5 to 180 on one per-tensor 8-bit grid, as the hardswish outputs a depthwise
// convolution reads in PP-OCR's backbone.
#include <cmath>
#include <random>

#include "compiler/quant/channel_range.h"
#include "compiler/quant/quant_math.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

constexpr int kChannels = 32;
constexpr int kValues = 4096;

// Channel c: hardswish of a normal variable, scaled so that the channel's largest values sit
// near 5 · 36^(c / 31) (5 ... 180, as PP-OCR's conv2 output, read by the depthwise dw2).
// Deterministic (mt19937 raw output, Box–Muller).
std::vector<std::vector<float>> channelValues() {
  std::mt19937 rng(7);
  auto uniform = [&] { return (double(rng()) + 0.5) / 4294967296.0; };
  std::vector<std::vector<float>> v(kChannels);
  for (int c = 0; c < kChannels; ++c) {
    const double top = 5 * std::pow(36.0, double(c) / (kChannels - 1));
    for (int i = 0; i < kValues; ++i) {
      const double g = std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform());
      const double x = g * 1.5;  // hardswish input; top ≈ hardswish(4.5) = 4.5
      const double hs = x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
      v[size_t(c)].push_back(float(hs * top / 4.5));
    }
  }
  return v;
}

struct Stats {
  quant::ChannelStats channels;
  quant::Histogram whole;
  quant::Range range;
};

Stats gather(const std::vector<std::vector<float>>& v) {
  Stats s;
  s.channels.hist.resize(v.size());
  s.channels.range.resize(v.size());
  for (size_t c = 0; c < v.size(); ++c) s.channels.range[c].add(v[c]);
  for (const auto& r : s.channels.range)
    s.range.min = std::min(s.range.min, r.min), s.range.max = std::max(s.range.max, r.max);
  for (size_t c = 0; c < v.size(); ++c) {
    const auto& r = s.channels.range[c];
    s.channels.hist[c].addFinite(v[c].data(), v[c].size(), float(r.min), float(r.max));
  }
  // The whole tensor's histogram, as calibration fills it (one buffer, its own extremes).
  std::vector<float> all;
  for (const auto& ch : v) all.insert(all.end(), ch.begin(), ch.end());
  s.whole.addFinite(all.data(), all.size(), float(s.range.min), float(s.range.max));
  return s;
}

// Measured SNR (dB) of each channel quantized on the 8-bit grid of [lo, hi]: what a depthwise
// convolution reading the channel on its own receives.
std::vector<double> measuredSnrDb(const std::vector<std::vector<float>>& v, double lo, double hi) {
  const QuantInfo q = quant::quantFromRange(lo, hi, 8);
  std::vector<double> db;
  for (const auto& ch : v) {
    double sig = 0, err = 0;
    for (float x : ch) {
      const double back = double(quant::quantizeValue(x, q) - q.zeroPoint) * q.scale;
      sig += double(x) * x;
      err += (back - x) * (back - x);
    }
    db.push_back(10 * std::log10(sig / err));
  }
  return db;
}

double minOf(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}
double meanOf(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

TEST(ChannelRange, SmallChannelsGetTheirOwnSnrBackWhereThePerTensorRangeServesTheLargest) {
  const auto v = channelValues();
  const Stats s = gather(v);
  const quant::RangeChoice tensor = quant::selectRange(s.whole, s.range, 8);
  const quant::RangeChoice channel = quant::selectChannelRange(s.channels, s.range, 8);
  ASSERT_TRUE(channel.changed);
  // The per-channel criterion narrows the grid further: the small channels get finer steps and
  // the largest channels' rare top values are clipped.
  EXPECT_LT(channel.hi, 0.8 * tensor.hi) << tensor.hi << " vs " << channel.hi;
  EXPECT_GT(channel.hi, 0.05 * s.range.max);  // ... not to the small channels' scale
  // The modelled criterion prefers it (by construction) and the measurement agrees: the sum of
  // relative errors falls, and the measured per-channel SNR rises on the mean and the worst.
  const auto a = quant::scoreChannelRange(s.channels, s.range, 8, tensor.lo, tensor.hi);
  const auto b = quant::scoreChannelRange(s.channels, s.range, 8, channel.lo, channel.hi);
  EXPECT_LT(b.sumRelative, 0.7 * a.sumRelative);
  const auto before = measuredSnrDb(v, tensor.lo, tensor.hi);
  const auto after = measuredSnrDb(v, channel.lo, channel.hi);
  EXPECT_GT(meanOf(after), meanOf(before) + 1.0) << meanOf(before) << " -> " << meanOf(after);
  EXPECT_GT(minOf(after), minOf(before) + 3.0) << minOf(before) << " -> " << minOf(after);
  // The model's per-channel SNR follows the measured one.
  EXPECT_NEAR(b.meanSnrDb, meanOf(after), 1.5);
  // The whole tensor's positive side loses at most 1 % of its values to clipping.
  EXPECT_LE(b.positiveClipped, 0.01);
}

TEST(ChannelRange, ChannelsOfOneScaleKeepThePerTensorChoice) {
  // Every channel alike: the relative criterion is the absolute one up to a constant factor
  // (with the same clipping weight), so both searches agree.
  auto v = channelValues();
  for (auto& ch : v) ch = v[20];
  const Stats s = gather(v);
  quant::RangeSearch plain;
  plain.clipWeight = 1.0;
  const quant::RangeChoice tensor = quant::selectRange(s.whole, s.range, 8, plain);
  const quant::RangeChoice channel = quant::selectChannelRange(s.channels, s.range, 8);
  EXPECT_NEAR(channel.hi, tensor.hi, 0.02 * tensor.hi);
  EXPECT_NEAR(channel.lo, tensor.lo, 0.05 * std::fabs(tensor.lo) + 1e-9);
}

TEST(ChannelRange, TensorsReadByConvolutionsOnlyAtLeastOneDepthwise) {
  // a = conv(x) feeds a padded depthwise conv and a 1x1 conv; b = conv(x) only a 1x1 conv;
  // c = conv(x) a depthwise conv and a residual add: only a is read channel by channel.
  const Graph g = importText(
      "<ir_version: 8, opset_import: [\"\" : 17]>\n"
      "g (float[1,4,8,8] x) => (float[1,4,8,8] y, float[1,4,8,8] z, float[1,4,8,8] u, "
      "float[1,4,8,8] r) {\n"
      "  w1 = Constant <value = " +
      tensorLiteral({4, 4, 1, 1}, 1) +
      "> ()\n  wd = Constant <value = " + tensorLiteral({4, 1, 3, 3}, 2) +
      "> ()\n  w2 = Constant <value = " + tensorLiteral({4, 4, 1, 1}, 3) +
      "> ()\n  w3 = Constant <value = " + tensorLiteral({4, 4, 1, 1}, 4) +
      "> ()\n  w4 = Constant <value = " + tensorLiteral({4, 4, 1, 1}, 5) +
      "> ()\n"
      "  a = Conv (x, w1)\n  y = Conv <group = 4, pads = [1, 1, 1, 1]> (a, wd)\n"
      "  u = Conv (a, w3)\n"
      "  b = Conv (x, w2)\n  z = Conv (b, w3)\n"
      "  c = Conv (x, w4)\n  e = Conv <group = 4, pads = [1, 1, 1, 1]> (c, wd)\n"
      "  r = Add (c, e)\n}");
  const std::vector<bool> read = quant::channelReadTensors(g);
  int marked = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    if (!read[i]) continue;
    ++marked;
    EXPECT_EQ(g.layers[i].type, LayerType::Conv) << g.layers[i].name;
    const auto readers = g.consumers({int(i), 0});
    ASSERT_EQ(readers.size(), 2u);
    EXPECT_TRUE(g.at(readers[0]).type == LayerType::Dw || g.at(readers[1]).type == LayerType::Dw)
        << layerTypes(g);
    EXPECT_TRUE(g.at(readers[0]).type == LayerType::Conv ||
                g.at(readers[1]).type == LayerType::Conv)
        << layerTypes(g);
  }
  EXPECT_EQ(marked, 1) << layerTypes(g);
}

}  // namespace
}  // namespace kiln::test
