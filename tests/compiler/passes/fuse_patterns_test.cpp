// The fuse_hardswish and fuse_silu passes (compiler/passes/fuse_patterns.cpp), before and after:
// x * HardSigmoid(x; 1/6, 0.5), x * relu6(x + 3) / 6 and x * Sigmoid(x) become one activation
// layer; a gate with other parameters or another reader stays as it is.
#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// conv 1x1 (2 -> 3 channels) -> c, then `body` computing y from c.
std::string afterConv(const std::string& body, const std::string& extraOutputs = "") {
  return std::string(kHeader) + "g (float[1,2,4,4] x) => (float[1,3,4,4] y" + extraOutputs +
         ") {\n"
         "  w = Constant <value = " +
         tensorLiteral({3, 2, 1, 1}, 1, -2, 2) +
         "> ()\n"
         "  c = Conv (x, w)\n" +
         body + "}";
}

TEST(FuseHardswish, HardSigmoidTimesItsInput) {
  const std::string text =
      afterConv("  h = HardSigmoid <alpha = 0.1666667, beta = 0.5> (c)\n  y = Mul (c, h)\n");
  const Graph before = importBefore(text, "fuse_hardswish");
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=hardsigmoid -> [1, 3, 4, 4]
ew_mult1 = ew_mult(conv1, activation1) -> [1, 3, 4, 4]
output_layer1 = output_layer(ew_mult1) onnx_name=y -> [1, 3, 4, 4]
)");
  const Graph after = runPassOn(before, "fuse_hardswish");
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=hardswish -> [1, 3, 4, 4]
output_layer1 = output_layer(activation1) onnx_name=y -> [1, 3, 4, 4]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FuseHardswish, InputTimesRelu6OfInputPlus3DividedBy6) {
  const std::string text = afterConv(
      "  three = Constant <value = float {3.0}> ()\n  a = Add (c, three)\n"
      "  lo = Constant <value = float {0.0}> ()\n  hi = Constant <value = float {6.0}> ()\n"
      "  r = Clip (a, lo, hi)\n  p = Mul (c, r)\n"
      "  six = Constant <value = float {6.0}> ()\n  y = Div (p, six)\n");
  const Graph before = importBefore(text, "fuse_hardswish");
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
const_input1 = const_input() value[] -> []
ew_add1 = ew_add(conv1, const_input1) -> [1, 3, 4, 4]
activation1 = activation(ew_add1) act=relu6 -> [1, 3, 4, 4]
ew_mult1 = ew_mult(conv1, activation1) -> [1, 3, 4, 4]
const_input2 = const_input() value[] -> []
ew_div1 = ew_div(ew_mult1, const_input2) -> [1, 3, 4, 4]
output_layer1 = output_layer(ew_div1) onnx_name=y -> [1, 3, 4, 4]
)");
  const Graph after = runPassOn(before, "fuse_hardswish");
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=hardswish -> [1, 3, 4, 4]
output_layer1 = output_layer(activation1) onnx_name=y -> [1, 3, 4, 4]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FuseHardswish, NotWithHardSigmoidsDefaultSlope) {
  // ONNX's default HardSigmoid is x * 0.2 + 0.5, not the 1/6 of HardSwish.
  const Graph before =
      importBefore(afterConv("  h = HardSigmoid (c)\n  y = Mul (c, h)\n"), "fuse_hardswish");
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=hardsigmoid -> [1, 3, 4, 4]
ew_mult1 = ew_mult(conv1, activation1) -> [1, 3, 4, 4]
output_layer1 = output_layer(ew_mult1) onnx_name=y -> [1, 3, 4, 4]
)");
  expectUnchangedBy(before, "fuse_hardswish");
}

TEST(FuseSilu, SigmoidTimesItsInput) {
  const Graph before =
      importBefore(afterConv("  s = Sigmoid (c)\n  y = Mul (s, c)\n"), "fuse_silu");
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=sigmoid -> [1, 3, 4, 4]
ew_mult1 = ew_mult(activation1, conv1) -> [1, 3, 4, 4]
output_layer1 = output_layer(ew_mult1) onnx_name=y -> [1, 3, 4, 4]
)");
  const Graph after = runPassOn(before, "fuse_silu");
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=silu -> [1, 3, 4, 4]
output_layer1 = output_layer(activation1) onnx_name=y -> [1, 3, 4, 4]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FuseSilu, NotWhenTheSigmoidHasASecondReader) {
  const Graph before = importBefore(
      afterConv("  s = Sigmoid (c)\n  y = Mul (s, c)\n", ", float[1,3,4,4] s"), "fuse_silu");
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=sigmoid -> [1, 3, 4, 4]
ew_mult1 = ew_mult(activation1, conv1) -> [1, 3, 4, 4]
output_layer1 = output_layer(ew_mult1) onnx_name=y -> [1, 3, 4, 4]
output_layer2 = output_layer(activation1) onnx_name=s -> [1, 3, 4, 4]
)");
  expectUnchangedBy(before, "fuse_silu");
}

}  // namespace
}  // namespace kiln::test
