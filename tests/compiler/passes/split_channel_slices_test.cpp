// The split_channel_slices pass, before and after: a conv read only through channel slices becomes
// one conv per slice (not with another reader). And M-LSD's last layers: conv -> resize -> channel
// slices becomes one conv + resize per slice, without the unread channels, with the same float
// outputs as the network written that way by hand, the output order and the ONNX names kept.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 17]>\n";

// conv 1x1 (8 channels) -> linear resize x2 -> channels [2, 3) and [4, 7), the first through a
// sigmoid; `w` and `b` are the kernel and bias literals.
std::string slicedNet(const std::string& w, const std::string& b) {
  return std::string(kHeader) +
         "g (float[1,3,4,4] x) => (float[1,1,8,8] heat, float[1,3,8,8] off) {\n"
         "  w = Constant <value = " +
         w +
         "> ()\n"
         "  b = Constant <value = " +
         b +
         "> ()\n"
         "  s = Constant <value = float[4] {1, 1, 2, 2}> ()\n"
         "  c = Conv (x, w, b)\n"
         "  r = Resize <mode = \"linear\"> (c, , s)\n"
         "  s0 = Constant <value = int64[1] {2}> ()\n"
         "  e0 = Constant <value = int64[1] {3}> ()\n"
         "  s1 = Constant <value = int64[1] {4}> ()\n"
         "  e1 = Constant <value = int64[1] {7}> ()\n"
         "  ax = Constant <value = int64[1] {1}> ()\n"
         "  h = Slice (r, s0, e0, ax)\n"
         "  heat = Sigmoid (h)\n"
         "  off = Slice (r, s1, e1, ax)\n"
         "}";
}

// A float tensor literal of the ONNX text syntax.
std::string literalOf(const std::string& shape, const std::vector<float>& v) {
  std::string s = "float" + shape + " {";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "}";
}

// The same function with the kernel rows of each slice written out: two convs, two resizes.
std::string handSplitNet(const std::vector<float>& w, const std::vector<float>& b) {
  auto rows = [](const std::vector<float>& v, size_t per, size_t lo, size_t hi) {
    return std::vector<float>(v.begin() + long(lo * per), v.begin() + long(hi * per));
  };
  return std::string(kHeader) +
         "g (float[1,3,4,4] x) => (float[1,1,8,8] heat, float[1,3,8,8] off) {\n"
         "  wa = Constant <value = " +
         literalOf("[1,3,1,1]", rows(w, 3, 2, 3)) +
         "> ()\n"
         "  ba = Constant <value = " +
         literalOf("[1]", rows(b, 1, 2, 3)) +
         "> ()\n"
         "  wb = Constant <value = " +
         literalOf("[3,3,1,1]", rows(w, 3, 4, 7)) +
         "> ()\n"
         "  bb = Constant <value = " +
         literalOf("[3]", rows(b, 1, 4, 7)) +
         "> ()\n"
         "  s = Constant <value = float[4] {1, 1, 2, 2}> ()\n"
         "  ca = Conv (x, wa, ba)\n"
         "  ra = Resize <mode = \"linear\"> (ca, , s)\n"
         "  heat = Sigmoid (ra)\n"
         "  cb = Conv (x, wb, bb)\n"
         "  off = Resize <mode = \"linear\"> (cb, , s)\n"
         "}";
}

std::vector<float> values(size_t n, float scale, float offset) {
  std::vector<float> v;
  for (size_t i = 0; i < n; ++i) v.push_back(offset + scale * std::sin(1.7f * float(i) + 0.3f));
  return v;
}

const char* kPass = "split_channel_slices";

// conv 1x1 (2 -> 6 channels) read through the channel slices [0, 2) and [3, 6); with `alsoRelu`,
// also through a Relu of all its channels.
std::string convSlices(bool alsoRelu) {
  return std::string(kHeader) + "g (float[1,2,4,4] x) => (float[1,2,4,4] a, float[1,3,4,4] b" +
         (alsoRelu ? ", float[1,6,4,4] r" : "") +
         ") {\n"
         "  w = Constant <value = " +
         tensorLiteral({6, 2, 1, 1}, 1) +
         "> ()\n"
         "  k = Constant <value = " +
         tensorLiteral({6}, 2) +
         "> ()\n"
         "  c = Conv (x, w, k)\n"
         "  s0 = Constant <value = int64[1] {0}> ()\n"
         "  e0 = Constant <value = int64[1] {2}> ()\n"
         "  s1 = Constant <value = int64[1] {3}> ()\n"
         "  e1 = Constant <value = int64[1] {6}> ()\n"
         "  ax = Constant <value = int64[1] {1}> ()\n"
         "  a = Slice (c, s0, e0, ax)\n"
         "  b = Slice (c, s1, e1, ax)\n" +
         (alsoRelu ? "  r = Relu (c)\n" : "") + "}";
}

TEST(SplitChannelSlices, OneConvPerSlice) {
  const Graph before = importBefore(convSlices(false), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[6] kernel[6, 2, 1, 1] -> [1, 6, 4, 4]
slice1 = slice(conv1) ends=[1, 2, 4, 4] starts=[0, 0, 0, 0] steps=[1, 1, 1, 1] -> [1, 2, 4, 4]
slice2 = slice(conv1) ends=[1, 6, 4, 4] starts=[0, 3, 0, 0] steps=[1, 1, 1, 1] -> [1, 3, 4, 4]
output_layer1 = output_layer(slice1) onnx_name=a -> [1, 2, 4, 4]
output_layer2 = output_layer(slice2) onnx_name=b -> [1, 3, 4, 4]
)");
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[2] kernel[2, 2, 1, 1] -> [1, 2, 4, 4]
output_layer1 = output_layer(conv1) onnx_name=a -> [1, 2, 4, 4]
conv2 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
output_layer2 = output_layer(conv2) onnx_name=b -> [1, 3, 4, 4]
)");
  expectSameFloatOutputs(before, after);
}

TEST(SplitChannelSlices, NotWhenTheConvHasAnotherReader) {
  const Graph before = importBefore(convSlices(true), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[6] kernel[6, 2, 1, 1] -> [1, 6, 4, 4]
slice1 = slice(conv1) ends=[1, 2, 4, 4] starts=[0, 0, 0, 0] steps=[1, 1, 1, 1] -> [1, 2, 4, 4]
slice2 = slice(conv1) ends=[1, 6, 4, 4] starts=[0, 3, 0, 0] steps=[1, 1, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=relu -> [1, 6, 4, 4]
output_layer1 = output_layer(slice1) onnx_name=a -> [1, 2, 4, 4]
output_layer2 = output_layer(slice2) onnx_name=b -> [1, 3, 4, 4]
output_layer3 = output_layer(activation1) onnx_name=r -> [1, 6, 4, 4]
)");
  expectUnchangedBy(before, kPass);
}

TEST(SplitChannelSlices, OneConvPerSliceWithTheSameFloatOutputs) {
  const std::vector<float> w = values(24, 1.f, 0.f), b = values(8, 2.f, 0.f);
  const Graph split = importText(slicedNet(literalOf("[8,3,1,1]", w), literalOf("[8]", b)));
  EXPECT_EQ(layerTypes(split),
            "input_layer conv resize activation+sigmoid output_layer conv resize output_layer");
  // The unread channels are gone: 1 + 3 output channels instead of 8.
  int convChannels = 0;
  for (const Layer& l : split.layers)
    if (l.type == LayerType::Conv) convChannels += int(l.outputShapes[0][1]);
  EXPECT_EQ(convChannels, 4);
  // Output order and ONNX names are kept.
  const auto outs = split.outputLayers();
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(split.at(outs[0]).outputShapes[0], (Shape{1, 1, 8, 8}));
  EXPECT_EQ(split.at(outs[1]).outputShapes[0], (Shape{1, 3, 8, 8}));

  const Graph byHand = importText(handSplitNet(w, b));
  for (unsigned seed = 0; seed < 3; ++seed) {
    const std::vector<FloatBuffer> in = {randomInput({1, 3, 4, 4}, seed)};
    const auto a = runFloat(split, in), e = runFloat(byHand, in);
    ASSERT_EQ(a.size(), 2u);
    for (size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(a[k].shape, e[k].shape);
      EXPECT_EQ(a[k].data, e[k].data) << "output " << k;
    }
  }
}

}  // namespace
}  // namespace kiln::test
