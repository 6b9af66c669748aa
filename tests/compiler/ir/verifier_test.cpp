// The IR verifier (compiler/ir/verifier.h): a well-formed graph passes; a dangling input, a layer
// read before it is computed, a bad port, a wrong input count and stale shapes are each rejected
// with a message naming the layer and what is wrong.
#include <string>

#include "compiler/ir/verifier.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

// input [1,3,8,8] -> conv 4 (3x3, pad 1) -> ew_add with the conv itself -> output.
Graph smallGraph() {
  Graph g = importText(std::string("<ir_version: 8, opset_import: [\"\" : 17]>\n") +
                       "g (float[1,3,8,8] x) => (float[1,4,8,8] y) {\n"
                       "  w = Constant <value = " +
                       tensorLiteral({4, 3, 3, 3}, 1) +
                       "> ()\n"
                       "  b = Constant <value = " +
                       tensorLiteral({4}, 2) +
                       "> ()\n"
                       "  c = Conv <pads = [1, 1, 1, 1]> (x, w, b)\n"
                       "  y = Add (c, c)\n}");
  EXPECT_EQ(layerTypes(g), "input_layer conv ew_add output_layer");
  return g;
}

// The verifier's message for g, or "" when it accepts g.
std::string verifierMessage(const Graph& g) {
  try {
    verify(g);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Verifier, AcceptsAWellFormedGraph) {
  EXPECT_EQ(verifierMessage(smallGraph()), "");
}

TEST(Verifier, RejectsADanglingInput) {
  Graph g = smallGraph();
  g.layers[2].inputs[1].layer = 42;
  EXPECT_EQ(verifierMessage(g),
            "IR verifier: layer ew_add1 (ew_add): input 1 refers to layer 42, which does not "
            "exist (4 layers)");
  g.layers[2].inputs[1].layer = -1;
  EXPECT_NE(verifierMessage(g).find("input 1 refers to layer -1, which does not exist"),
            std::string::npos);
}

TEST(Verifier, RejectsAnInputThatComesLater) {
  Graph g = smallGraph();
  g.layers[1].inputs[0].layer = 2;
  EXPECT_EQ(verifierMessage(g),
            "IR verifier: layer conv1 (conv): input 0 reads layer ew_add1, which does not come "
            "before it (order broken)");
}

TEST(Verifier, RejectsAPortOutOfRange) {
  Graph g = smallGraph();
  g.layers[2].inputs[0].port = 1;
  EXPECT_EQ(verifierMessage(g),
            "IR verifier: layer ew_add1 (ew_add): input 0 reads port 1 of layer conv1, which has "
            "1 outputs");
}

TEST(Verifier, RejectsAWrongInputCount) {
  Graph g = smallGraph();
  g.layers[2].inputs.pop_back();
  EXPECT_EQ(verifierMessage(g),
            "IR verifier: layer ew_add1 (ew_add): has 1 inputs, but a ew_add takes 2");
  g = smallGraph();
  g.layers[1].inputs.push_back({0, 0});
  EXPECT_EQ(verifierMessage(g),
            "IR verifier: layer conv1 (conv): has 2 inputs, but a conv takes 1");
}

TEST(Verifier, RejectsStaleShapesAndBias) {
  Graph g = smallGraph();
  g.layers[2].outputShapes[0] = {1, 4, 8, 9};
  EXPECT_EQ(verifierMessage(g),
            "IR verifier: layer ew_add1 (ew_add): stored output shapes [1, 4, 8, 9] differ from "
            "inferred ones [1, 4, 8, 8]");
  g = smallGraph();
  g.layers[1].params.erase("bias");
  EXPECT_EQ(verifierMessage(g), "IR verifier: layer conv1 (conv): bias does not match outputs");
}

}  // namespace
}  // namespace kiln::test
