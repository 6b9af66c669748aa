// The fold_affine pass, before and after: constant per-channel and scalar multiplications and
// additions become normalization layers, which fold into the conv before them; before a padded
// conv one stays a normalization, and a constant that is not per channel leaves the layer alone.
#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kPass = "fold_affine";
const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// conv 3x3 (2 -> 3 channels) -> * per-channel constant -> + scalar.
std::string convScaleShift() {
  return std::string(kHeader) +
         "g (float[1,2,5,5] x) => (float[1,3,5,5] y) {\n"
         "  w = Constant <value = " +
         tensorLiteral({3, 2, 3, 3}, 1) +
         "> ()\n"
         "  b = Constant <value = " +
         tensorLiteral({3}, 2) +
         "> ()\n"
         "  c = Conv <pads = [1,1,1,1]> (x, w, b)\n"
         "  s = Constant <value = float[1,3,1,1] {0.5, -1.5, 2.0}> ()\n"
         "  m = Mul (c, s)\n"
         "  t = Constant <value = float[1] {0.25}> ()\n"
         "  y = Add (m, t)\n"
         "}";
}

// x * `scale` (a constant literal) -> conv 3x3 (2 -> 3 channels) with pads 1.
std::string scaleThenPaddedConv(const std::string& scale) {
  return std::string(kHeader) +
         "g (float[1,2,5,5] x) => (float[1,3,5,5] y) {\n"
         "  s = Constant <value = " +
         scale +
         "> ()\n"
         "  m = Mul (x, s)\n"
         "  w = Constant <value = " +
         tensorLiteral({3, 2, 3, 3}, 1) +
         "> ()\n"
         "  y = Conv <pads = [1,1,1,1]> (m, w)\n"
         "}";
}

TEST(FoldAffine, ScaleAndShiftFoldIntoTheConvBefore) {
  const Graph before = importBefore(convScaleShift(), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 5, 5] -> [1, 2, 5, 5]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 2, 3, 3] -> [1, 3, 5, 5]
const_input1 = const_input() value[1, 3, 1, 1] -> [1, 3, 1, 1]
ew_mult1 = ew_mult(conv1, const_input1) -> [1, 3, 5, 5]
const_input2 = const_input() value[1] -> [1]
ew_add1 = ew_add(ew_mult1, const_input2) -> [1, 3, 5, 5]
output_layer1 = output_layer(ew_add1) onnx_name=y -> [1, 3, 5, 5]
)");
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 5, 5] -> [1, 2, 5, 5]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 2, 3, 3] -> [1, 3, 5, 5]
output_layer1 = output_layer(conv1) onnx_name=y -> [1, 3, 5, 5]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FoldAffine, BeforeAPaddedConvItStaysANormalization) {
  const Graph before = importBefore(scaleThenPaddedConv("float[1,2,1,1] {0.5, 3.0}"), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 5, 5] -> [1, 2, 5, 5]
const_input1 = const_input() value[1, 2, 1, 1] -> [1, 2, 1, 1]
ew_mult1 = ew_mult(input_layer1, const_input1) -> [1, 2, 5, 5]
conv1 = conv(ew_mult1) dilations=[1, 1] group=1 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 2, 3, 3] -> [1, 3, 5, 5]
output_layer1 = output_layer(conv1) onnx_name=y -> [1, 3, 5, 5]
)");
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 5, 5] -> [1, 2, 5, 5]
normalization1 = normalization(input_layer1) bias[2] scale[2] -> [1, 2, 5, 5]
conv1 = conv(normalization1) dilations=[1, 1] group=1 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 2, 3, 3] -> [1, 3, 5, 5]
output_layer1 = output_layer(conv1) onnx_name=y -> [1, 3, 5, 5]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FoldAffine, NotWithAConstantThatIsNotPerChannel) {
  const Graph before = importBefore(scaleThenPaddedConv(tensorLiteral({1, 1, 5, 5}, 3)), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 5, 5] -> [1, 2, 5, 5]
const_input1 = const_input() value[1, 1, 5, 5] -> [1, 1, 5, 5]
ew_mult1 = ew_mult(input_layer1, const_input1) -> [1, 2, 5, 5]
conv1 = conv(ew_mult1) dilations=[1, 1] group=1 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 2, 3, 3] -> [1, 3, 5, 5]
output_layer1 = output_layer(conv1) onnx_name=y -> [1, 3, 5, 5]
)");
  expectUnchangedBy(before, kPass);
}

}  // namespace
}  // namespace kiln::test
