// Every layer type of compiler/ir/layer_types.def goes the whole way: a small ONNX model that
// makes the parser produce it is parsed, optimized (random calibration, default a8_w8),
// compiled and verified by kiln compile's own check (the .kef run by the runtime equals the
// quantized emulation bit for bit). A type added to the table without a model here fails the
// walk; a type the parser cannot take through must instead be refused by it (with the cut to
// apply), and then this test says so. Types a model script inserts (input_conversion) come
// from a model and its script.
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "compiler/archive/archive.h"
#include "compiler/flow/compile_flow.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 17]>\n";

std::string c(const std::string& name, const std::vector<int64_t>& shape, unsigned seed,
              float lo = -1, float hi = 1) {
  return "  " + name + " = Constant <value = " + tensorLiteral(shape, seed, lo, hi) + "> ()\n";
}

// One model per type: the graph's text (ONNX text syntax). x is [1,4,8,8] unless said.
std::map<LayerType, std::string> models() {
  const std::string x = "float[1,4,8,8] x";
  const std::string two = "(float[1,4,8,8] x, float[1,4,8,8] z) => (float[1,4,8,8] y) {\n";
  auto binary = [&](const std::string& op) { return "g " + two + "  y = " + op + " (x, z)\n}"; };
  std::map<LayerType, std::string> m;
  const std::string conv = "g (" + x + ") => (float[1,4,8,8] y) {\n" + c("w", {4, 4, 3, 3}, 1) +
                           c("b", {4}, 2) + "  y = Conv <pads = [1,1,1,1]> (x, w, b)\n}";
  m[LayerType::InputLayer] = conv;
  m[LayerType::OutputLayer] = conv;
  m[LayerType::Conv] = conv;
  m[LayerType::ConstInput] = "g (" + x + ") => (float[1,8,8,8] y) {\n" + c("k", {1, 4, 8, 8}, 3) +
                             "  y = Concat <axis = 1> (x, k)\n}";
  m[LayerType::Concat] = m[LayerType::ConstInput];
  m[LayerType::Dw] = "g (" + x + ") => (float[1,4,8,8] y) {\n" + c("w", {4, 1, 3, 3}, 4) +
                     "  y = Conv <group = 4, pads = [1,1,1,1]> (x, w)\n}";
  m[LayerType::Deconv] = "g (" + x + ") => (float[1,4,16,16] y) {\n" + c("w", {4, 4, 2, 2}, 5) +
                         "  y = ConvTranspose <strides = [2,2]> (x, w)\n}";
  m[LayerType::Fc] = "g (float[1,16] x) => (float[1,8] y) {\n" + c("w", {8, 16}, 6) +
                     c("b", {8}, 7) + "  y = Gemm <transB = 1> (x, w, b)\n}";
  m[LayerType::MatMul] =
      "g (float[1,4,8] x, float[1,8,4] z) => (float[1,4,4] y) {\n  y = MatMul (x, z)\n}";
  m[LayerType::EwAdd] = binary("Add");
  m[LayerType::EwSub] = binary("Sub");
  m[LayerType::EwMult] = binary("Mul");
  m[LayerType::EwMax] = binary("Max");
  m[LayerType::EwMin] = binary("Min");
  // A divisor kept away from 0 (a sigmoid), as a real network's would be.
  m[LayerType::EwDiv] = "g " + two + "  s = Sigmoid (z)\n  y = Div (x, s)\n}";
  m[LayerType::Activation] = "g (" + x + ") => (float[1,4,8,8] y) {\n  y = Sigmoid (x)\n}";
  m[LayerType::MaxPool] = "g (" + x + ") => (float[1,4,4,4] y) {\n" +
                          "  y = MaxPool <kernel_shape = [2,2], strides = [2,2]> (x)\n}";
  m[LayerType::AvgPool] = "g (" + x + ") => (float[1,4,4,4] y) {\n" +
                          "  y = AveragePool <kernel_shape = [2,2], strides = [2,2]> (x)\n}";
  m[LayerType::GlobalAvgPool] =
      "g (" + x + ") => (float[1,4,1,1] y) {\n  y = GlobalAveragePool (x)\n}";
  m[LayerType::Resize] = "g (" + x + ") => (float[1,4,16,16] y) {\n" +
                         "  s = Constant <value = float[4] {1, 1, 2, 2}> ()\n" +
                         "  y = Resize <mode = \"nearest\"> (x, , s)\n}";
  m[LayerType::Slice] =
      "g (" + x + ") => (float[1,4,8,4] y) {\n" + "  st = Constant <value = int64[1] {2}> ()\n" +
      "  en = Constant <value = int64[1] {6}> ()\n" +
      "  ax = Constant <value = int64[1] {3}> ()\n" + "  y = Slice (x, st, en, ax)\n}";
  // Reshape and transpose between two convolutions (at the network's edge they are absorbed).
  auto between = [&](const std::string& op, const std::string& shape) {
    return "g (" + x + ") => (float[1,4,8,8] y) {\n" + c("w", {4, 4, 1, 1}, 8) +
           c("v", {4, 4, 1, 1}, 9) + "  a = Conv (x, w)\n" + shape + "  r = " + op +
           "\n  y = Conv (r, v)\n}";
  };
  // A reshape to another shape and back (one to the same shape would be dropped).
  m[LayerType::Reshape] =
      "g (" + x + ") => (float[1,4,8,8] y) {\n" + c("w", {4, 4, 1, 1}, 8) +
      c("v", {4, 4, 1, 1}, 9) +
      "  a = Conv (x, w)\n  sh = Constant <value = int64[4] {1, 8, 4, 8}> ()\n"
      "  r = Reshape (a, sh)\n  sh2 = Constant <value = int64[4] {1, 4, 8, 8}> ()\n"
      "  r2 = Reshape (r, sh2)\n  y = Conv (r2, v)\n}";
  m[LayerType::Transpose] = between("Transpose <perm = [0,1,3,2]> (a)", "");
  m[LayerType::Pad] = "g (" + x + ") => (float[1,4,10,10] y) {\n" +
                      "  p = Constant <value = int64[8] {0, 0, 1, 1, 0, 0, 1, 1}> ()\n" +
                      "  y = Pad (x, p)\n}";
  m[LayerType::Softmax] = "g (" + x + ") => (float[1,4,8,8] y) {\n  y = Softmax <axis = 1> (x)\n}";
  m[LayerType::ReduceMean] =
      "g (" + x + ") => (float[1,1,8,8] y) {\n  y = ReduceMean <axes = [1]> (x)\n}";
  m[LayerType::ReduceMax] =
      "g (" + x + ") => (float[1,1,8,8] y) {\n  y = ReduceMax <axes = [1]> (x)\n}";
  m[LayerType::ReduceSum] = "g (" + x + ") => (float[1,1,8,8] y) {\n" +
                            "  a = Constant <value = int64[1] {1}> ()\n  y = ReduceSum (x, a)\n}";
  m[LayerType::LayerNormalization] = "g (float[2,16] x) => (float[2,16] y) {\n" +
                                     c("s", {16}, 10, 0.5f, 1.5f) + c("b", {16}, 11) +
                                     "  y = LayerNormalization <axis = -1> (x, s, b)\n}";
  m[LayerType::Normalization] = "g (" + x + ") => (float[1,4,8,8] y) {\n" +
                                c("s", {4}, 12, 0.5f, 1.5f) + c("b", {4}, 13) + c("mu", {4}, 14) +
                                c("var", {4}, 15, 0.5f, 2.f) +
                                "  y = BatchNormalization (x, s, b, mu, var)\n}";
  m[LayerType::DepthToSpace] =
      "g (" + x + ") => (float[1,1,16,16] y) {\n  y = DepthToSpace <blocksize = 2> (x)\n}";
  m[LayerType::SpaceToDepth] =
      "g (" + x + ") => (float[1,16,4,4] y) {\n  y = SpaceToDepth <blocksize = 2> (x)\n}";
  // M-LSD's peak test: a value that equals its neighbourhood's maximum.
  m[LayerType::EwEqual] = "g (" + x + ") => (float[1,4,8,8] y) {\n" +
                          "  p = MaxPool <kernel_shape = [3,3], pads = [1,1,1,1]> (x)\n" +
                          "  e = Equal (p, x)\n  f = Cast <to = 1> (e)\n  y = Mul (x, f)\n}";
  // Types a model script inserts rather than the parser (input_conversion): the model is a
  // plain image network, scripts() below adds them.
  const std::string image =
      "g (float[1,3,8,8] x) => (float[1,3,8,8] y) {\n"
      "  y = MaxPool <kernel_shape = [1,1]> (x)\n}";
  m[LayerType::FormatConversion] = image;
  m[LayerType::ColorConversion] = image;
  return m;
}

// The model script of the types a script inserts.
std::map<LayerType, std::string> scripts() {
  return {{LayerType::FormatConversion, "c = input_conversion(nv12_to_rgb)\n"},
          {LayerType::ColorConversion, "c = input_conversion(yuy2_to_rgb)\n"}};
}

TEST(EveryLayerType, ParsesOptimizesCompilesAndRunsBitExactly) {
  const auto table = models();
  const auto scriptTable = scripts();
  const std::string dir = ::testing::TempDir() + "/every_layer_type";
  ::mkdir(dir.c_str(), 0755);
  for (LayerType t : allLayerTypes()) {
    const std::string word = typeWord(t);
    SCOPED_TRACE(word);
    const auto it = table.find(t);
    ASSERT_NE(it, table.end()) << "layer type " << word
                               << " has no model in this test: add one (or make the parser "
                                  "refuse it with the cut to apply)";
    const ::onnx::ModelProto model = parseText(std::string(kHeader) + it->second);
    const std::string onnxPath = dir + "/" + word + ".onnx", out = dir + "/" + word;
    {
      std::ofstream f(onnxPath, std::ios::binary);
      ASSERT_TRUE(model.SerializeToOstream(&f));
    }
    flow::CompileOptions o;
    o.onnxPath = onnxPath;
    o.netName = word;
    o.randomCalib = true;
    o.calibSize = 8;
    o.reportSamples = 2;
    o.verifySamples = 3;
    o.outputDir = out;
    bool produced = false;
    o.afterParse = [&](const Graph& g) {
      for (const Layer& l : g.layers) produced = produced || l.type == t;
    };
    const auto script = scriptTable.find(t);
    if (script != scriptTable.end()) o.scriptText = script->second;
    try {
      const flow::CompileResult r = flow::compileModel(o);
      if (script != scriptTable.end())
        for (const Layer& l : readArchive(r.optimizedPath).graph.layers)
          produced = produced || l.type == t;
      EXPECT_TRUE(produced) << "the model meant for " << word << " does not produce it";
      std::ifstream kef(r.kefPath, std::ios::binary);
      EXPECT_TRUE(kef.good()) << r.kefPath;
    } catch (const std::exception& e) {
      ADD_FAILURE() << word << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace kiln::test
