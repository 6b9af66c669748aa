// Decision tensors: the outputs and what reaches them without passing a weighted layer.
#include "compiler/quant/decision_tensors.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

TEST(DecisionTensors, TheHeadAfterTheLastWeightedLayers) {
  // conv1 -> relu -> conv2 -> sigmoid -> output (both activations fuse into the convs); conv1 ->
  // conv3 -> reshape -> output.
  const Graph g = importText(
      "<ir_version: 8, opset_import: [\"\" : 17]>\n"
      "g (float[1,4,8,8] x) => (float[1,1,8,8] p, float[1,256] r) {\n"
      "  w1 = Constant <value = " +
      tensorLiteral({4, 4, 3, 3}, 1) +
      "> ()\n"
      "  w2 = Constant <value = " +
      tensorLiteral({1, 4, 1, 1}, 2) +
      "> ()\n"
      "  w3 = Constant <value = " +
      tensorLiteral({4, 4, 1, 1}, 3) +
      "> ()\n"
      "  sh = Constant <value = int64[2] {1, 256}> ()\n"
      "  a = Conv <pads = [1,1,1,1]> (x, w1)\n  b = Relu (a)\n"
      "  c = Conv (b, w2)\n  p = Sigmoid (c)\n"
      "  d = Conv (b, w3)\n  r = Reshape (d, sh)\n}");
  const std::vector<bool> d = quant::decisionTensors(g);
  std::string decided;
  for (size_t i = 0; i < g.layers.size(); ++i)
    if (d[i]) decided += (decided.empty() ? "" : " ") + g.layers[i].name;
  EXPECT_EQ(decided, "conv2 conv3 reshape1 output_layer1 output_layer2") << layerTypes(g);
}

}  // namespace
}  // namespace kiln::test
