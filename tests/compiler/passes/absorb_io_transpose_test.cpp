// The absorb_io_transpose pass, before and after: an input read only by a Transpose takes its
// `perm` (the user still feeds NHWC), and so does an output fed by a Transpose nobody else reads;
// a Transpose next to an input or output with other readers stays.
#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kPass = "absorb_io_transpose";
const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// NHWC in, NCHW conv 1x1 (3 -> 2 channels), NHWC out.
std::string nhwcConv() {
  return std::string(kHeader) +
         "g (float[1,4,4,3] x) => (float[1,4,4,2] y) {\n"
         "  t = Transpose <perm = [0,3,1,2]> (x)\n"
         "  w = Constant <value = " +
         tensorLiteral({2, 3, 1, 1}, 1) +
         "> ()\n"
         "  c = Conv (t, w)\n"
         "  y = Transpose <perm = [0,2,3,1]> (c)\n"
         "}";
}

// The same, but the input is also read by a Relu (an output) and the output Transpose also feeds
// a Relu (another output).
std::string nhwcConvWithOtherReaders() {
  return std::string(kHeader) +
         "g (float[1,4,4,3] x) => (float[1,4,4,2] y, float[1,4,4,3] rx, float[1,4,4,2] ry) {\n"
         "  t = Transpose <perm = [0,3,1,2]> (x)\n"
         "  w = Constant <value = " +
         tensorLiteral({2, 3, 1, 1}, 1) +
         "> ()\n"
         "  c = Conv (t, w)\n"
         "  y = Transpose <perm = [0,2,3,1]> (c)\n"
         "  rx = Relu (x)\n"
         "  ry = Relu (y)\n"
         "}";
}

TEST(AbsorbIoTranspose, InputAndOutputTakeThePermutation) {
  const Graph before = importBefore(nhwcConv(), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 4, 4, 3] -> [1, 4, 4, 3]
transpose1 = transpose(input_layer1) perm=[0, 3, 1, 2] -> [1, 3, 4, 4]
conv1 = conv(transpose1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[2] kernel[2, 3, 1, 1] -> [1, 2, 4, 4]
transpose2 = transpose(conv1) perm=[0, 2, 3, 1] -> [1, 4, 4, 2]
output_layer1 = output_layer(transpose2) onnx_name=y -> [1, 4, 4, 2]
)");
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x perm=[0, 3, 1, 2] user_shape=[1, 4, 4, 3] -> [1, 3, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[2] kernel[2, 3, 1, 1] -> [1, 2, 4, 4]
output_layer1 = output_layer(conv1) onnx_name=y perm=[0, 2, 3, 1] -> [1, 4, 4, 2]
)");
  expectSameFloatOutputs(before, after);
}

TEST(AbsorbIoTranspose, NotWhenTheInputOrTheTransposeHasAnotherReader) {
  const Graph before = importBefore(nhwcConvWithOtherReaders(), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 4, 4, 3] -> [1, 4, 4, 3]
transpose1 = transpose(input_layer1) perm=[0, 3, 1, 2] -> [1, 3, 4, 4]
conv1 = conv(transpose1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[2] kernel[2, 3, 1, 1] -> [1, 2, 4, 4]
transpose2 = transpose(conv1) perm=[0, 2, 3, 1] -> [1, 4, 4, 2]
activation1 = activation(input_layer1) act=relu -> [1, 4, 4, 3]
activation2 = activation(transpose2) act=relu -> [1, 4, 4, 2]
output_layer1 = output_layer(transpose2) onnx_name=y -> [1, 4, 4, 2]
output_layer2 = output_layer(activation1) onnx_name=rx -> [1, 4, 4, 3]
output_layer3 = output_layer(activation2) onnx_name=ry -> [1, 4, 4, 2]
)");
  expectUnchangedBy(before, kPass);
}

}  // namespace
}  // namespace kiln::test
