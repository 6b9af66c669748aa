// Importer tests: one per pattern real exporters produce, written in ONNX's text syntax. Each
// checks the Kiln layers it yields and, where numerics change, the float result.
#include <cmath>

#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const char* kHeader11 = "<ir_version: 7, opset_import: [\"\" : 11]>\n";
const char* kHeader13 = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

float maxAbsDiff(const FloatBuffer& a, const FloatBuffer& b) {
  EXPECT_EQ(a.shape, b.shape);
  float d = 0;
  for (size_t i = 0; i < a.data.size() && i < b.data.size(); ++i)
    d = std::max(d, std::fabs(a.data[i] - b.data[i]));
  return d;
}

TEST(Importer, ConstantNodeWeightsAndNaming) {
  // paddle2onnx writes weights as Constant nodes rather than initializers.
  const std::string text = std::string(kHeader11) +
                           "g (float[1,2,5,5] x) => (float[1,3,5,5] y) {\n"
                           "  w = Constant <value = " +
                           tensorLiteral({3, 2, 3, 3}, 1) +
                           "> ()\n"
                           "  b = Constant <value = " +
                           tensorLiteral({3}, 2) +
                           "> ()\n"
                           "  c = Conv <pads = [1,1,1,1]> (x, w, b)\n"
                           "  y = Relu (c)\n}";
  const Graph g = importText(text);
  EXPECT_EQ(layerTypes(g), "input_layer conv+relu output_layer");
  EXPECT_EQ(g.layers[1].name, "conv1");
  EXPECT_EQ(g.layers[1].param("kernel").shape, (Shape{3, 2, 3, 3}));
  EXPECT_EQ(g.layers[0].name, "input_layer1");
  EXPECT_EQ(g.layers[2].name, "output_layer1");
}

TEST(Importer, Opset9ClipAttributesBecomeRelu6) {
  const Graph g = importText(
      "<ir_version: 4, opset_import: [\"\" : 9]>\n"
      "g (float[1,4] x) => (float[1,4] y) { y = Clip <min = 0.0, max = 6.0> (x) }");
  EXPECT_EQ(layerTypes(g), "input_layer activation+relu6 output_layer");
  FloatBuffer in{{1, 4}, {-1.f, 3.f, 7.f, 0.5f}};
  EXPECT_EQ(runFloat(g, {in})[0].data, (std::vector<float>{0.f, 3.f, 6.f, 0.5f}));
}

TEST(Importer, Opset11ClipBoundsAsInputs) {
  const Graph g = importText(std::string(kHeader11) +
                             "g (float[1,4] x) => (float[1,4] y) {\n"
                             "  lo = Constant <value = float {-1.0}> ()\n"
                             "  hi = Constant <value = float {2.0}> ()\n"
                             "  y = Clip (x, lo, hi)\n}");
  EXPECT_EQ(layerTypes(g), "input_layer activation+clip output_layer");
  FloatBuffer in{{1, 4}, {-3.f, 1.f, 5.f, 0.f}};
  EXPECT_EQ(runFloat(g, {in})[0].data, (std::vector<float>{-1.f, 1.f, 2.f, 0.f}));
}

TEST(Importer, OldSoftmaxFlattensFromAxis) {
  // Before opset 13, Softmax(axis=1) on [1,2,3] normalises over all 6 values jointly.
  const Graph g =
      importText(std::string(kHeader11) +
                 "g (float[1,2,3] x) => (float[1,2,3] y) { y = Softmax <axis = 1> (x) }");
  const FloatBuffer in{{1, 2, 3}, {0, 1, 2, 3, 4, 5}};
  const auto out = runFloat(g, {in})[0];
  double sum = 0;
  for (float v : in.data) sum += std::exp(v);
  for (size_t i = 0; i < 6; ++i) EXPECT_NEAR(out.data[i], std::exp(in.data[i]) / sum, 1e-6);
  // From opset 13 the same node normalises along axis 1 only.
  const Graph g13 =
      importText(std::string(kHeader13) +
                 "g (float[1,2,3] x) => (float[1,2,3] y) { y = Softmax <axis = 1> (x) }");
  const auto out13 = runFloat(g13, {in})[0];
  EXPECT_NEAR(out13.data[0] + out13.data[3], 1.0, 1e-6);
}

TEST(Importer, NhwcInputTransposeIsAbsorbed) {
  const std::string text = std::string(kHeader11) +
                           "g (float[1,4,4,3] x) => (float[1,2,4,4] y) {\n"
                           "  t = Transpose <perm = [0,3,1,2]> (x)\n"
                           "  w = Constant <value = " +
                           tensorLiteral({2, 3, 1, 1}, 3) +
                           "> ()\n"
                           "  y = Conv (t, w)\n}";
  const Graph g = importText(text);
  EXPECT_EQ(layerTypes(g), "input_layer conv output_layer");
  EXPECT_EQ(g.layers[0].attrInts("user_shape"), (Shape{1, 4, 4, 3}));
  EXPECT_EQ(g.layers[0].outputShapes[0], (Shape{1, 3, 4, 4}));
  // The NHWC pixel (0,0) channel c sits at data[c]; a 1x1 conv mixes exactly those three.
  const FloatBuffer in = randomInput({1, 4, 4, 3}, 7);
  const auto out = runFloat(g, {in})[0];
  const auto& w = g.layers[1].param("kernel").data;
  EXPECT_NEAR(out.data[0], w[0] * in.data[0] + w[1] * in.data[1] + w[2] * in.data[2], 1e-5);
}

TEST(Importer, HardSigmoidTimesInputIsHardSwish) {
  const Graph g = importText(std::string(kHeader11) +
                             "g (float[1,8] x) => (float[1,8] y) {\n"
                             "  h = HardSigmoid <alpha = 0.1666667, beta = 0.5> (x)\n"
                             "  y = Mul (x, h)\n}");
  EXPECT_EQ(layerTypes(g), "input_layer activation+hardswish output_layer");
  const FloatBuffer in{{1, 8}, {-5, -3, -1, 0, 0.5, 1, 3, 5}};
  const auto out = runFloat(g, {in})[0];
  for (size_t i = 0; i < 8; ++i) {
    const float x = in.data[i];
    EXPECT_NEAR(out.data[i], x * std::min(1.f, std::max(0.f, x / 6 + 0.5f)), 1e-5);
  }
}

TEST(Importer, InputTimesSigmoidIsSilu) {
  const Graph g =
      importText(std::string(kHeader13) +
                 "g (float[1,6] x) => (float[1,6] y) { s = Sigmoid (x)\n y = Mul (s, x) }");
  EXPECT_EQ(layerTypes(g), "input_layer activation+silu output_layer");
  const FloatBuffer in{{1, 6}, {-4, -1, 0, 1, 2, 6}};
  const auto out = runFloat(g, {in})[0];
  for (size_t i = 0; i < 6; ++i)
    EXPECT_NEAR(out.data[i], in.data[i] / (1 + std::exp(-in.data[i])), 1e-6);
}

TEST(Importer, SigmoidWithOtherReadersIsNotFused) {
  const Graph g = importText(std::string(kHeader13) +
                             "g (float[1,6] x) => (float[1,6] y, float[1,6] s) { s = Sigmoid (x)\n"
                             " y = Mul (s, x) }");
  EXPECT_EQ(layerTypes(g), "input_layer activation+sigmoid ew_mult output_layer output_layer");
}

std::string convBn(const std::string& bnInput, const std::string& extra) {
  return std::string(kHeader13) +
         "g (float[1,3,6,6] x) => (float[1,4,6,6] y) {\n"
         "  w = Constant <value = " +
         tensorLiteral({4, 3, 3, 3}, 11) +
         "> ()\n"
         "  c = Conv <pads = [1,1,1,1]> (x, w)\n" +
         extra + "  s = Constant <value = " + tensorLiteral({4}, 12, 0.5, 2) +
         "> ()\n"
         "  b = Constant <value = " +
         tensorLiteral({4}, 13) +
         "> ()\n"
         "  m = Constant <value = " +
         tensorLiteral({4}, 14) +
         "> ()\n"
         "  v = Constant <value = " +
         tensorLiteral({4}, 15, 0.5, 2) +
         "> ()\n"
         "  y = BatchNormalization <epsilon = 0.001> (" +
         bnInput + ", s, b, m, v)\n}";
}

TEST(Importer, BatchNormFoldsIntoConv) {
  const Graph folded = importText(convBn("c", ""));
  EXPECT_EQ(layerTypes(folded), "input_layer conv output_layer");
  EXPECT_EQ(folded.layers[1].originalNames.size(), 2u);
  // The same BatchNorm behind a Relu cannot fold: it stays a normalization layer.
  const Graph kept = importText(convBn("c0", "  c0 = Relu (c)\n"));
  EXPECT_EQ(layerTypes(kept), "input_layer conv+relu normalization output_layer");
  // Reference for the folded numbers: BatchNorm kept behind an Add of a non-constant zero.
  const Graph unfolded =
      importText(std::string(kHeader13) +
                 "g (float[1,3,6,6] x, float[1,4,6,6] z) => (float[1,4,6,6] y) {\n"
                 "  w = Constant <value = " +
                 tensorLiteral({4, 3, 3, 3}, 11) +
                 "> ()\n"
                 "  c1 = Conv <pads = [1,1,1,1]> (x, w)\n  c0 = Add (c1, z)\n"
                 "  s = Constant <value = " +
                 tensorLiteral({4}, 12, 0.5, 2) +
                 "> ()\n"
                 "  b = Constant <value = " +
                 tensorLiteral({4}, 13) +
                 "> ()\n"
                 "  m = Constant <value = " +
                 tensorLiteral({4}, 14) +
                 "> ()\n"
                 "  v = Constant <value = " +
                 tensorLiteral({4}, 15, 0.5, 2) +
                 "> ()\n"
                 "  y = BatchNormalization <epsilon = 0.001> (c0, s, b, m, v)\n}");
  EXPECT_EQ(layerTypes(unfolded), "input_layer input_layer conv ew_add normalization output_layer");
  const FloatBuffer in = randomInput({1, 3, 6, 6}, 5);
  const FloatBuffer zero{{1, 4, 6, 6}, std::vector<float>(144, 0.f)};
  EXPECT_LT(maxAbsDiff(runFloat(folded, {in})[0], runFloat(unfolded, {in, zero})[0]), 1e-4);
}

TEST(Importer, ScalarAndPerChannelAffineFoldIntoConv) {
  // PaddlePaddle's learnable affine block: conv -> Mul(scalar) -> Add(scalar); then x*relu6(x+3)/6.
  const std::string text =
      std::string(kHeader11) +
      "g (float[1,2,5,5] x) => (float[1,3,5,5] y) {\n"
      "  w = Constant <value = " +
      tensorLiteral({3, 2, 3, 3}, 31) +
      "> ()\n"
      "  c = Conv <pads = [1,1,1,1]> (x, w)\n"
      "  s = Constant <value = float[1] {1.7}> ()\n  m = Mul (s, c)\n"
      "  t = Constant <value = float[1,3,1,1] {0.1, -0.2, 0.3}> ()\n  a = Add (m, t)\n"
      "  three = Constant <value = float {3.0}> ()\n  a3 = Add (a, three)\n"
      "  lo = Constant <value = float {0.0}> ()\n  hi = Constant <value = float {6.0}> ()\n"
      "  r = Clip (a3, lo, hi)\n  p = Mul (a, r)\n"
      "  six = Constant <value = float {6.0}> ()\n  y = Div (p, six)\n}";
  const Graph g = importText(text);
  EXPECT_EQ(layerTypes(g), "input_layer conv+hardswish output_layer");
  const FloatBuffer in = randomInput({1, 2, 5, 5}, 3);
  const auto out = runFloat(g, {in})[0];
  // Reference: the same network with the affine and the gate behind a non-constant zero.
  const Graph ref =
      importText(std::string(kHeader11) +
                 "g (float[1,2,5,5] x, float[1,3,5,5] z) => (float[1,3,5,5] y) {\n"
                 "  w = Constant <value = " +
                 tensorLiteral({3, 2, 3, 3}, 31) +
                 "> ()\n"
                 "  c0 = Conv <pads = [1,1,1,1]> (x, w)\n  c = Add (c0, z)\n"
                 "  s = Constant <value = float[1] {1.7}> ()\n  m = Mul (s, c)\n"
                 "  t = Constant <value = float[1,3,1,1] {0.1, -0.2, 0.3}> ()\n  a = Add (m, t)\n"
                 "  y = HardSwish (a)\n}");
  const FloatBuffer zero{{1, 3, 5, 5}, std::vector<float>(75, 0.f)};
  EXPECT_LT(maxAbsDiff(out, runFloat(ref, {in, zero})[0]), 1e-5);
}

TEST(Importer, DecomposedLayerNormIsRecognised) {
  std::vector<float> gamma, beta;
  const std::string text =
      std::string(kHeader13) +
      "g (float[1,4,8] x) => (float[1,4,8] y) {\n"
      "  m = ReduceMean <axes = [-1]> (x)\n  d = Sub (x, m)\n"
      "  two = Constant <value = float {2.0}> ()\n  p = Pow (d, two)\n"
      "  v = ReduceMean <axes = [-1]> (p)\n  eps = Constant <value = float {0.00001}> ()\n"
      "  ve = Add (v, eps)\n  s = Sqrt (ve)\n  n = Div (d, s)\n"
      "  ga = Constant <value = " +
      tensorLiteral({8}, 21, 0.5, 1.5, &gamma) +
      "> ()\n"
      "  be = Constant <value = " +
      tensorLiteral({8}, 22, -1, 1, &beta) +
      "> ()\n"
      "  ng = Mul (n, ga)\n  y = Add (ng, be)\n}";
  const Graph g = importText(text);
  EXPECT_EQ(layerTypes(g), "input_layer layer_normalization output_layer");
  EXPECT_EQ(g.layers[1].originalNames.size(), 9u);  // the 9 non-constant nodes
  const FloatBuffer in = randomInput({1, 4, 8}, 9);
  const auto out = runFloat(g, {in})[0];
  for (int r = 0; r < 4; ++r) {
    double mean = 0, var = 0;
    for (int k = 0; k < 8; ++k) mean += in.data[r * 8 + k] / 8.0;
    for (int k = 0; k < 8; ++k) var += std::pow(in.data[r * 8 + k] - mean, 2) / 8.0;
    for (int k = 0; k < 8; ++k)
      EXPECT_NEAR(out.data[r * 8 + k],
                  (in.data[r * 8 + k] - mean) / std::sqrt(var + 1e-5) * gamma[k] + beta[k], 1e-4);
  }
}

TEST(Importer, ShapeArithmeticFoldsToConstants) {
  // Flatten written as Shape -> Gather -> Unsqueeze -> Concat -> Reshape, with Cast/Equal/
  // ConstantOfShape/Slice thrown in as exporters do.
  const Graph g = importText(
      std::string(kHeader13) +
      "g (float[1,2,3,4] x) => (float[1,24] y, float[1,2] z) {\n"
      "  s = Shape (x)\n  i0 = Constant <value = int64 {0}> ()\n"
      "  n = Gather <axis = 0> (s, i0)\n  ax = Constant <value = int64[1] {0}> ()\n"
      "  nu = Unsqueeze (n, ax)\n  m1 = Constant <value = int64[1] {-1}> ()\n"
      "  shp = Concat <axis = 0> (nu, m1)\n  y = Reshape (x, shp)\n"
      "  st = Constant <value = int64[1] {1}> ()\n  en = Constant <value = int64[1] {3}> ()\n"
      "  sl = Slice (s, st, en)\n  f = Cast <to = 1> (sl)\n"
      "  two = Constant <value = float[2] {2.0, 3.0}> ()\n  e = Equal (f, two)\n"
      "  ef = Cast <to = 1> (e)\n  one = Constant <value = int64[1] {2}> ()\n"
      "  zs = ConstantOfShape <value = float[1] {1.5}> (one)\n  z0 = Mul (ef, zs)\n"
      "  r = Constant <value = int64[2] {1, 2}> ()\n  z = Reshape (z0, r)\n}");
  EXPECT_EQ(layerTypes(g), "input_layer reshape output_layer const_input output_layer");
  EXPECT_EQ(g.layers[1].outputShapes[0], (Shape{1, 24}));
  EXPECT_EQ(g.layers[3].param("value").data, (std::vector<float>{1.5f, 1.5f}));
}

TEST(Importer, Opset18AxesAsInputs) {
  // Opset 18 moved Reduce* axes and Pad axes to inputs; libonnx 1.12's checker does not know
  // opset 18, so the importer validates on its own.
  const Graph g = importText(
      "<ir_version: 8, opset_import: [\"\" : 18]>\n"
      "g (float[1,2,3,4] x) => (float[1,2,1,1] y) {\n"
      "  ax = Constant <value = int64[2] {2, 3}> ()\n  y = ReduceMean <keepdims = 1> (x, ax)\n}");
  EXPECT_EQ(layerTypes(g), "input_layer reduce_mean output_layer");
  EXPECT_EQ(g.layers[1].attrInts("axes"), (std::vector<int64_t>{2, 3}));
  const FloatBuffer in = randomInput({1, 2, 3, 4}, 1);
  double mean0 = 0;
  for (int i = 0; i < 12; ++i) mean0 += in.data[i] / 12.0;
  EXPECT_NEAR(runFloat(g, {in})[0].data[0], mean0, 1e-5);
}

TEST(Importer, IdentityAndDropoutAreRemoved) {
  const Graph g = importText(std::string(kHeader13) +
                             "g (float[1,4] x) => (float[1,4] y) { a = Identity (x)\n"
                             " b = Dropout (a)\n y = Relu (b) }");
  EXPECT_EQ(layerTypes(g), "input_layer activation+relu output_layer");
}

const char* kUnsupported =
    "<ir_version: 8, opset_import: [\"\" : 13]>\n"
    "g (float[1,4] x) => (float[1,4] y) { a = Relu (x)\n b = Sin (a)\n y = Relu (b) }";

TEST(Importer, UnsupportedOperatorNamesNodeAndSuggestsCut) {
  ::onnx::ModelProto m = parseText(kUnsupported);
  m.mutable_graph()->mutable_node(0)->set_name("relu_a");
  m.mutable_graph()->mutable_node(1)->set_name("sin_b");
  onnx::ImportOptions o;
  o.netName = "t";
  try {
    onnx::importModel(m, ".", o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("node 'sin_b': op Sin, opset 13"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--end-node-names relu_a"), std::string::npos) << msg;
  }
  o.acceptSuggestedCuts = true;
  onnx::ImportReport rep;
  const Graph g = onnx::importModel(m, ".", o, &rep);
  EXPECT_EQ(layerTypes(g), "input_layer activation+relu output_layer");
  EXPECT_EQ(rep.appliedEndNodes, (std::vector<std::string>{"relu_a"}));
}

TEST(Importer, StartAndEndNodesCutTheGraph) {
  ::onnx::ModelProto m = parseText(std::string(kHeader13) +
                                   "g (float[1,4] x) => (float[1,4] y) { a = Relu (x)\n"
                                   " b = Sigmoid (a)\n y = Tanh (b) }");
  const char* names[] = {"n_relu", "n_sigmoid", "n_tanh"};
  for (int i = 0; i < 3; ++i) m.mutable_graph()->mutable_node(i)->set_name(names[i]);
  onnx::ImportOptions o;
  o.netName = "t";
  o.startNodes = {"n_sigmoid"};
  o.endNodes = {"n_sigmoid"};
  const Graph g = onnx::importModel(m, ".", o);
  EXPECT_EQ(layerTypes(g), "input_layer activation+sigmoid output_layer");
  EXPECT_EQ(g.layers[0].attrString("onnx_name"), "a");
  o.endNodes = {"n_sigmoidd"};
  try {
    onnx::importModel(m, ".", o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("no node named 'n_sigmoidd'. Closest node names: n_sigmoid"),
        std::string::npos)
        << e.what();
  }
}

TEST(Importer, DynamicDimensionsNeedTensorShapes) {
  const std::string text =
      std::string(kHeader13) + "g (float[N,3,H,W] x) => (float[N,3,H,W] y) { y = Relu (x) }";
  try {
    importText(text);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'x' [N, 3, H, W] has dynamic dimensions"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--tensor-shapes"), std::string::npos);
  }
  onnx::ImportOptions o;
  o.tensorShapes["x"] = {1, 3, 8, 8};
  const Graph g = importText(text, o);
  EXPECT_EQ(g.layers[0].outputShapes[0], (Shape{1, 3, 8, 8}));
  EXPECT_EQ(onnx::parseTensorShapeArg("x=[1, 3,640,640]").second, (Shape{1, 3, 640, 640}));
  EXPECT_THROW(onnx::parseTensorShapeArg("x=1,3"), Error);
}

}  // namespace
}  // namespace kiln::test
