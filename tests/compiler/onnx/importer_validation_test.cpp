// Importer validation tests (issue 12): invalid attributes, shapes and names, in the forms the
// bad-input campaign produced (a stride of 0, negative strides, dilation 0, empty outputs, a graph
// without outputs, dimensions near 2^63, non-UTF-8 names). Each must be an Error naming the node,
// the attribute, what was expected and what was found, never a crash or a silent import.
#include <limits>

#include "compiler/ir/macs.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const std::string kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// The message of the Error importing `m` throws, or "" when it imports.
std::string importError(const ::onnx::ModelProto& m, onnx::ImportOptions o = {}) {
  if (o.netName.empty()) o.netName = "t";
  try {
    onnx::importModel(m, ".", o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string importError(const std::string& text) {
  return importError(parseText(text));
}

// Every fragment appears in the message.
void expectMessage(const std::string& msg, std::initializer_list<const char*> fragments) {
  ASSERT_FALSE(msg.empty()) << "expected an error, the model imported";
  for (const char* f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << f << "\n" << msg;
}

// A 1x2x8x8 -> Conv (3 output channels, 3x3 kernel) model with the given attributes.
std::string convModel(const std::string& attrs, const std::string& weights = "") {
  return kHeader + "g (float[1,2,8,8] x) => (float[1,3,8,8] y) {\n  w = Constant <value = " +
         (weights.empty() ? tensorLiteral({3, 2, 3, 3}, 1) : weights) + "> ()\n  y = Conv " +
         attrs + " (x, w)\n}";
}

std::string poolModel(const std::string& op, const std::string& attrs) {
  return kHeader + "g (float[1,2,8,8] x) => (float[1,2,4,4] y) { y = " + op + " " + attrs +
         " (x) }";
}

TEST(ImporterValidation, ConvStrideZeroIsAnErrorNotSigfpe) {
  expectMessage(importError(convModel("<strides = [0, 1]>")),
                {"node 'Conv_1' (Conv, opset 13)", "attribute 'strides'",
                 "expected integers from 1 to 1048576", "found [0, 1]"});
}

TEST(ImporterValidation, MaxPoolStrideZeroIsAnErrorNotSigfpe) {
  expectMessage(importError(poolModel("MaxPool", "<kernel_shape = [2, 2], strides = [2, 0]>")),
                {"node 'MaxPool_0' (MaxPool", "attribute 'strides'", "found [2, 0]"});
  expectMessage(importError(poolModel("AveragePool", "<kernel_shape = [2, 2], strides = [0, 0]>")),
                {"(AveragePool", "attribute 'strides'", "found [0, 0]"});
}

TEST(ImporterValidation, NegativeStrides) {
  expectMessage(importError(convModel("<strides = [-1, 1]>")),
                {"attribute 'strides'", "found [-1, 1]"});
  expectMessage(importError(poolModel("MaxPool", "<kernel_shape = [2, 2], strides = [-2, 2]>")),
                {"attribute 'strides'", "found [-2, 2]"});
}

TEST(ImporterValidation, ZeroOrNegativeDilations) {
  // Dilation 0 used to pass the parser and fail later in kiln optimize.
  expectMessage(importError(convModel("<dilations = [0, 1]>")),
                {"(Conv", "attribute 'dilations'", "found [0, 1]"});
  expectMessage(importError(convModel("<dilations = [1, -2]>")),
                {"attribute 'dilations'", "found [1, -2]"});
  expectMessage(importError(poolModel("MaxPool", "<kernel_shape = [2, 2], dilations = [0, 0]>")),
                {"(MaxPool", "attribute 'dilations'"});
}

TEST(ImporterValidation, ZeroOrNegativeKernelSizes) {
  expectMessage(importError(poolModel("MaxPool", "<kernel_shape = [0, 2]>")),
                {"attribute 'kernel_shape'", "from 1 to", "found [0, 2]"});
  expectMessage(importError(poolModel("AveragePool", "<kernel_shape = [2, -3]>")),
                {"attribute 'kernel_shape'", "found [2, -3]"});
  expectMessage(importError(poolModel("MaxPool", "<strides = [2, 2]>")),
                {"attribute 'kernel_shape' is required"});
  // Conv: kernel_shape must agree with the weights.
  expectMessage(
      importError(convModel("<kernel_shape = [5, 5]>")),
      {"attribute 'kernel_shape'", "expected the weights' kernel size [3, 3]", "found [5, 5]"});
}

TEST(ImporterValidation, WrongNumberOfEntries) {
  expectMessage(
      importError(convModel("<strides = [1, 1, 1]>")),
      {"attribute 'strides'", "expected 2 values (one per spatial axis", "found 3: [1, 1, 1]"});
  expectMessage(importError(convModel("<pads = [1, 1]>")),
                {"attribute 'pads'", "expected 4 values", "found 2"});
}

TEST(ImporterValidation, PadsAndAutoPad) {
  expectMessage(importError(convModel("<pads = [1, -1, 1, 1]>")),
                {"attribute 'pads'", "expected integers from 0", "found [1, -1, 1, 1]"});
  expectMessage(importError(convModel("<auto_pad = \"SAME\">")),
                {"attribute 'auto_pad'", "expected one of NOTSET, SAME_UPPER, SAME_LOWER, VALID",
                 "found 'SAME'"});
}

TEST(ImporterValidation, GroupMustBePositiveAndFitTheChannels) {
  expectMessage(importError(convModel("<group = 0>")),
                {"attribute 'group'", "expected an integer from 1", "found 0"});
  expectMessage(importError(convModel("<group = -2>")), {"attribute 'group'", "found -2"});
  // 2 input channels, group 2 needs weights [Cout, 1, kH, kW] with Cout a multiple of 2.
  expectMessage(importError(convModel("<group = 2>", tensorLiteral({3, 1, 3, 3}, 1))),
                {"attribute 'group'", "divisor of the weights' 3 output channels", "found 2"});
  expectMessage(importError(convModel("<group = 2>", tensorLiteral({4, 2, 3, 3}, 1))),
                {"expected 1 input channels per group", "found 2"});
}

TEST(ImporterValidation, HugeStridesAndWindowsThatEmptyTheOutput) {
  expectMessage(importError(convModel("<strides = [4611686018427387904, 1]>")),
                {"attribute 'strides'", "from 1 to 1048576"});
  // A window larger than the padded input: the output would have 0 rows and columns.
  expectMessage(importError(poolModel("MaxPool", "<kernel_shape = [9, 9]>")),
                {"node 'MaxPool_0' (MaxPool", "maxpool layer", "empty output shape [1, 2, 0, 0]",
                 "from input(s) [1, 2, 8, 8]", "expected every output dimension >= 1"});
  expectMessage(importError(convModel("<dilations = [5, 5]>")),
                {"(Conv", "empty output shape [1, 3, 0, 0]"});
}

TEST(ImporterValidation, ConvTransposeAttributes) {
  const std::string w = tensorLiteral({2, 3, 3, 3}, 3);
  auto model = [&](const std::string& attrs) {
    return kHeader + "g (float[1,2,4,4] x) => (float[1,3,8,8] y) {\n  w = Constant <value = " + w +
           "> ()\n  y = ConvTranspose " + attrs + " (x, w)\n}";
  };
  EXPECT_EQ(importError(model("<strides = [2, 2], pads = [1, 1, 1, 1], output_padding = [1, 1]>")),
            "");
  expectMessage(importError(model("<strides = [0, 2]>")),
                {"(ConvTranspose", "attribute 'strides'", "found [0, 2]"});
  expectMessage(importError(model("<strides = [2, 2], output_padding = [2, 0]>")),
                {"attribute 'output_padding'", "below its stride or dilation", "found [2, 0]"});
  expectMessage(importError(model("<pads = [1, 1]>")),
                {"attribute 'pads'", "expected 4 values", "found 2"});
  expectMessage(importError(model("<output_shape = [0, 8]>")),
                {"attribute 'output_shape'", "found [0, 8]"});
  // Pads larger than the output: a negative size.
  expectMessage(importError(model("<pads = [5, 5, 5, 5]>")),
                {"deconv layer", "empty output shape [1, 3, -4, -4]"});
}

TEST(ImporterValidation, EmptySliceStaysValid) {
  // ONNX defines empty slices (onnx test_slice_start_out_of_bounds); only they may be empty.
  const Graph g = importText(kHeader +
                             "g (float[2,10] x) => (float[2,0] y) {\n"
                             "  s = Constant <value = int64[1] {1000}> ()\n"
                             "  e = Constant <value = int64[1] {1000}> ()\n"
                             "  a = Constant <value = int64[1] {1}> ()\n"
                             "  y = Slice (x, s, e, a)\n}");
  EXPECT_EQ(g.layers[1].outputShapes[0], (Shape{2, 0}));
}

TEST(ImporterValidation, FlagsAndEnums) {
  expectMessage(importError(poolModel("MaxPool", "<kernel_shape = [2, 2], ceil_mode = 2>")),
                {"attribute 'ceil_mode'", "expected an integer 0 or 1", "found 2"});
  expectMessage(
      importError(kHeader + "g (float[1,4] x) => (float[1,3] y) {\n  w = Constant <value = " +
                  tensorLiteral({3, 4}, 4) + "> ()\n  y = Gemm <transB = 7> (x, w)\n}"),
      {"(Gemm", "attribute 'transB'", "found 7"});
  expectMessage(
      importError(kHeader +
                  "g (float[1,4,2,2] x) => (float[1,1,4,4] y) { y = DepthToSpace <blocksize = 0, "
                  "mode = \"DCR\"> (x) }"),
      {"(DepthToSpace", "attribute 'blocksize'", "found 0"});
  expectMessage(
      importError(kHeader +
                  "g (float[1,4,2,2] x) => (float[1,1,4,4] y) { y = DepthToSpace <blocksize = 2, "
                  "mode = \"XYZ\"> (x) }"),
      {"attribute 'mode'", "expected one of DCR, CRD", "found 'XYZ'"});
  expectMessage(
      importError(kHeader +
                  "g (float[1,4,2,2] x) => (float[1,1,4,4] y) { y = DepthToSpace <blocksize = 3> "
                  "(x) }"),
      {"attribute 'blocksize' = 3", "divisible by 9"});
}

TEST(ImporterValidation, AttributeOfTheWrongType) {
  expectMessage(importError(convModel("<strides = [1.0, 1.0]>")),
                {"attribute 'strides'", "expected a list of integers, found a list of floats"});
}

TEST(ImporterValidation, TransposePermMustBeAPermutation) {
  expectMessage(
      importError(kHeader + "g (float[1,2,3] x) => (float[1,2,3] y) { y = Transpose <perm = [0, 0, "
                            "1]> (x) }"),
      {"(Transpose", "attribute 'perm'", "permutation of 0..2", "found [0, 0, 1]"});
  expectMessage(
      importError(kHeader +
                  "g (float[1,2,3] x) => (float[1,2,3] y) { y = Transpose <perm = [1, 0]> (x) }"),
      {"attribute 'perm'", "rank 3", "found [1, 0]"});
}

TEST(ImporterValidation, SplitNumOutputsZero) {
  // Opset 18 Split with num_outputs = 0 divided by zero.
  expectMessage(importError("<ir_version: 8, opset_import: [\"\" : 18]>\n"
                            "g (float[1,4] x) => (float[1,2] a, float[1,2] b) {\n"
                            "  a, b = Split <axis = 1, num_outputs = 0> (x)\n}"),
                {"(Split", "attribute 'num_outputs'", "found 0"});
}

TEST(ImporterValidation, ResizeEnumsAndScales) {
  auto model = [](const std::string& attrs, const std::string& scales) {
    return kHeader +
           "g (float[1,1,2,2] x) => (float[1,1,4,4] y) {\n  s = Constant <value = " + scales +
           "> ()\n  y = Resize " + attrs + " (x, , s)\n}";
  };
  const std::string x2 = "float[4] {1.0, 1.0, 2.0, 2.0}";
  EXPECT_EQ(importError(model("<mode = \"nearest\">", x2)), "");
  expectMessage(importError(model("<coordinate_transformation_mode = \"sideways\">", x2)),
                {"(Resize", "attribute 'coordinate_transformation_mode'", "found 'sideways'"});
  expectMessage(importError(model("<nearest_mode = \"up\">", x2)),
                {"attribute 'nearest_mode'", "found 'up'"});
  expectMessage(importError(model("", "float[4] {1.0, 1.0, 1e30, 2.0}")),
                {"scales: dimension 2", "exceeds 2147483647"});
}

TEST(ImporterValidation, GraphWithoutOutputsIsAnError) {
  // It used to give "0 Kiln layers" and exit 0.
  ::onnx::ModelProto m = parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_graph()->clear_output();
  expectMessage(importError(m), {"the graph has no outputs", "found none"});
}

TEST(ImporterValidation, InputDimensionsNearTwoToThe63) {
  // Dimensions near 2^63 made MAC counts wrap to negative numbers.
  ::onnx::ModelProto m = parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  auto* dims =
      m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  dims->mutable_dim(1)->set_dim_value(9223372036854775000);
  expectMessage(importError(m), {"input 'x' has shape [1, 9223372036854775000]",
                                 "expected every dimension from 1 to 2147483647"});
  // Each dimension within the limit, the element count not.
  dims->mutable_dim(0)->set_dim_value(2000000000);
  dims->mutable_dim(1)->set_dim_value(2000000000);
  expectMessage(importError(m), {"input 'x'", "expected at most 17179869184 elements"});
  // The same through --tensor-shapes.
  ::onnx::ModelProto d = parseText(kHeader + "g (float[N,4] x) => (float[N,4] y) { y = Relu (x) }");
  onnx::ImportOptions o;
  o.tensorShapes["x"] = {999999999999, 4};
  expectMessage(importError(d, o), {"--tensor-shapes x has shape [999999999999, 4]"});
}

TEST(ImporterValidation, MacAndElementCountsAreOverflowChecked) {
  // Shapes a crafted archive could carry: the counts are checked where the IR computes them.
  EXPECT_THROW(numel(Shape{int64_t(1) << 40, int64_t(1) << 40}), Error);
  EXPECT_EQ(numel(Shape{int64_t(1) << 31, int64_t(1) << 31}), int64_t(1) << 62);
  Graph g;
  Layer in;
  in.type = LayerType::InputLayer;
  in.outputShapes = {Shape{1, 4096, 1 << 20, 1 << 20}};
  g.add(in);
  Layer conv;
  conv.type = LayerType::Conv;
  conv.name = "conv1";
  conv.inputs = {{0, 0}};
  conv.params["kernel"].shape = {4096, 4096, 3, 3};
  conv.outputShapes = {Shape{1, 4096, 1 << 20, 1 << 20}};
  g.add(conv);
  try {
    layerMacs(g, g.layers[1]);
    FAIL() << "expected an overflow error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the MAC count of layer conv1 overflows"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(checkedAdd(std::numeric_limits<int64_t>::max(), 1, "x"), Error);
}

TEST(ImporterValidation, NonUtf8NodeName) {
  ::onnx::ModelProto m = parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_graph()->mutable_node(0)->set_name("relu\xff\xfe");
  expectMessage(importError(m), {"node #0 ('relu\\xFF\\xFE', Relu): node name",
                                 "is not valid UTF-8: byte 0xFF at offset 4"});
}

TEST(ImporterValidation, NonUtf8GraphInputOutputAndValueNames) {
  ::onnx::ModelProto m = parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_graph()->mutable_input(0)->set_name("x\xc3");
  expectMessage(importError(m), {"graph input name 'x\\xC3' is not valid UTF-8"});
  m = parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_graph()->mutable_output(0)->set_name("\x80y");
  expectMessage(importError(m), {"graph output name '\\x80y'", "byte 0x80 at offset 0"});
  m = parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { a = Relu (x)\n y = Relu (a) }");
  m.mutable_graph()->mutable_node(0)->set_output(0, "a\xed\xa0\x80");  // a UTF-16 surrogate
  m.mutable_graph()->mutable_node(1)->set_input(0, "a\xed\xa0\x80");
  expectMessage(importError(m), {"node #0", "output 0 name", "not valid UTF-8"});
  // Valid UTF-8 beyond ASCII is a fine name.
  m = parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  m.mutable_graph()->mutable_node(0)->set_name("r\xc3\xa9lu_\xe2\x9c\x93");
  EXPECT_EQ(importError(m), "");
}

TEST(ImporterValidation, NonUtf8NetName) {
  const ::onnx::ModelProto m =
      parseText(kHeader + "g (float[1,4] x) => (float[1,4] y) { y = Relu (x) }");
  onnx::ImportOptions o;
  o.netName = "net\xff";
  o.netNameField = "--net-name";
  expectMessage(importError(m, o), {"--net-name 'net\\xFF' is not valid UTF-8"});
}

TEST(ImporterValidation, FoldingErrorsNameTheNode) {
  // Expand to a negative shape, folded at compile time.
  expectMessage(importError(kHeader + "g (float[1,4] x) => (float[1,4] y) {\n"
                                      "  v = Constant <value = float[1] {1.0}> ()\n"
                                      "  s = Constant <value = int64[2] {-1, 4}> ()\n"
                                      "  e = Expand (v, s)\n  y = Add (x, e)\n}"),
                {"node 'Expand_2' (Expand", "expected dimensions >= 0"});
}

TEST(ImporterValidation, BatchNormVariancePlusEpsilonMustBePositive) {
  expectMessage(importError(kHeader + "g (float[1,2,2,2] x) => (float[1,2,2,2] y) {\n"
                                      "  s = Constant <value = float[2] {1.0, 1.0}> ()\n"
                                      "  b = Constant <value = float[2] {0.0, 0.0}> ()\n"
                                      "  m = Constant <value = float[2] {0.0, 0.0}> ()\n"
                                      "  v = Constant <value = float[2] {1.0, -1.0}> ()\n"
                                      "  y = BatchNormalization (x, s, b, m, v)\n}"),
                {"(BatchNormalization", "var (input 4) + attribute 'epsilon'", "var[1] = -1"});
}

}  // namespace
}  // namespace kiln::test
