// The fuse_activation pass, before and after: an activation whose producer can apply it and has
// no other reader becomes that producer's `act`; with a second reader it stays a layer.
#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kPass = "fuse_activation";
const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// conv 1x1 (2 -> 3 channels) -> relu; with `alsoConv`, the conv's output is a graph output too.
std::string convRelu(bool alsoConv) {
  return std::string(kHeader) + "g (float[1,2,4,4] x) => (float[1,3,4,4] y" +
         (alsoConv ? ", float[1,3,4,4] c" : "") +
         ") {\n"
         "  w = Constant <value = " +
         tensorLiteral({3, 2, 1, 1}, 1) +
         "> ()\n"
         "  b = Constant <value = " +
         tensorLiteral({3}, 2) +
         "> ()\n"
         "  c = Conv (x, w, b)\n"
         "  y = Relu (c)\n"
         "}";
}

TEST(FuseActivation, ReluIntoTheConvBeforeIt) {
  const Graph before = importBefore(convRelu(false), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=relu -> [1, 3, 4, 4]
output_layer1 = output_layer(activation1) onnx_name=y -> [1, 3, 4, 4]
)");
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] act=relu bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
output_layer1 = output_layer(conv1) onnx_name=y -> [1, 3, 4, 4]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FuseActivation, NotWhenTheConvHasASecondReader) {
  const Graph before = importBefore(convRelu(true), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 2, 4, 4] -> [1, 2, 4, 4]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 2, 1, 1] -> [1, 3, 4, 4]
activation1 = activation(conv1) act=relu -> [1, 3, 4, 4]
output_layer1 = output_layer(activation1) onnx_name=y -> [1, 3, 4, 4]
output_layer2 = output_layer(conv1) onnx_name=c -> [1, 3, 4, 4]
)");
  expectUnchangedBy(before, kPass);
}

}  // namespace
}  // namespace kiln::test
