// The fuse_layer_norm pass, before and after: layer normalisation written out with ReduceMean,
// Sub, Pow, Add, Sqrt and Div (and * gamma + beta) over the trailing axes becomes one
// layer_normalization layer; the same chain over a leading axis stays as it is.
#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kPass = "fuse_layer_norm";
const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gamma + beta, the means over `axes`.
std::string decomposedLayerNorm(const std::string& axes) {
  return std::string(kHeader) +
         "g (float[1,4,8] x) => (float[1,4,8] y) {\n"
         "  m = ReduceMean <axes = " +
         axes +
         "> (x)\n"
         "  d = Sub (x, m)\n"
         "  two = Constant <value = float {2.0}> ()\n"
         "  p = Pow (d, two)\n"
         "  v = ReduceMean <axes = " +
         axes +
         "> (p)\n"
         "  eps = Constant <value = float {0.00001}> ()\n"
         "  ve = Add (v, eps)\n"
         "  s = Sqrt (ve)\n"
         "  n = Div (d, s)\n"
         "  ga = Constant <value = " +
         tensorLiteral({8}, 21, 0.5, 1.5) +
         "> ()\n"
         "  be = Constant <value = " +
         tensorLiteral({8}, 22) +
         "> ()\n"
         "  ng = Mul (n, ga)\n"
         "  y = Add (ng, be)\n"
         "}";
}

TEST(FuseLayerNorm, DecomposedOverTheLastAxis) {
  const Graph before = importBefore(decomposedLayerNorm("[-1]"), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 4, 8] -> [1, 4, 8]
reduce_mean1 = reduce_mean(input_layer1) axes=[2] keepdims=1 -> [1, 4, 1]
ew_sub1 = ew_sub(input_layer1, reduce_mean1) -> [1, 4, 8]
activation1 = activation(ew_sub1) act=pow -> [1, 4, 8]
reduce_mean2 = reduce_mean(activation1) axes=[2] keepdims=1 -> [1, 4, 1]
const_input1 = const_input() value[] -> []
ew_add1 = ew_add(reduce_mean2, const_input1) -> [1, 4, 1]
activation2 = activation(ew_add1) act=sqrt -> [1, 4, 1]
ew_div1 = ew_div(ew_sub1, activation2) -> [1, 4, 8]
const_input2 = const_input() value[8] -> [8]
ew_mult1 = ew_mult(ew_div1, const_input2) -> [1, 4, 8]
const_input3 = const_input() value[8] -> [8]
ew_add2 = ew_add(ew_mult1, const_input3) -> [1, 4, 8]
output_layer1 = output_layer(ew_add2) onnx_name=y -> [1, 4, 8]
)");
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 4, 8] -> [1, 4, 8]
layer_normalization1 = layer_normalization(input_layer1) axis=2 epsilon=1e-05 bias[8] scale[8] -> [1, 4, 8]
output_layer1 = output_layer(layer_normalization1) onnx_name=y -> [1, 4, 8]
)");
  expectSameFloatOutputs(before, after, 1e-4f);
}

TEST(FuseLayerNorm, NotOverALeadingAxis) {
  const Graph before = importBefore(decomposedLayerNorm("[1]"), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 4, 8] -> [1, 4, 8]
reduce_mean1 = reduce_mean(input_layer1) axes=[1] keepdims=1 -> [1, 1, 8]
ew_sub1 = ew_sub(input_layer1, reduce_mean1) -> [1, 4, 8]
activation1 = activation(ew_sub1) act=pow -> [1, 4, 8]
reduce_mean2 = reduce_mean(activation1) axes=[1] keepdims=1 -> [1, 1, 8]
const_input1 = const_input() value[] -> []
ew_add1 = ew_add(reduce_mean2, const_input1) -> [1, 1, 8]
activation2 = activation(ew_add1) act=sqrt -> [1, 1, 8]
ew_div1 = ew_div(ew_sub1, activation2) -> [1, 4, 8]
const_input2 = const_input() value[8] -> [8]
ew_mult1 = ew_mult(ew_div1, const_input2) -> [1, 4, 8]
const_input3 = const_input() value[8] -> [8]
ew_add2 = ew_add(ew_mult1, const_input3) -> [1, 4, 8]
output_layer1 = output_layer(ew_add2) onnx_name=y -> [1, 4, 8]
)");
  expectUnchangedBy(before, kPass);
}

}  // namespace
}  // namespace kiln::test
