// The layer table (compiler/ir/layer_types.def): its property queries on a few layer types, rules
// that tie the columns together, and the MAC counts of a small imported CNN.
#include <string>

#include "compiler/ir/macs.h"
#include "compiler/ir/types.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

TEST(LayerTable, TypeWordsAndInputCounts) {
  EXPECT_STREQ(typeWord(LayerType::GlobalAvgPool), "global_avg_pool");
  LayerType t;
  ASSERT_TRUE(layerTypeFromWord("ew_equal", t));
  EXPECT_EQ(t, LayerType::EwEqual);
  EXPECT_FALSE(layerTypeFromWord("no_such_type", t));
  EXPECT_EQ(minInputs(LayerType::InputLayer), 0);
  EXPECT_EQ(maxInputs(LayerType::InputLayer), 0);
  EXPECT_EQ(minInputs(LayerType::MatMul), 2);
  EXPECT_EQ(minInputs(LayerType::Concat), 1);
  EXPECT_EQ(maxInputs(LayerType::Concat), -1);
}

TEST(LayerTable, Elementwise) {
  EXPECT_TRUE(isBinaryElementwise(LayerType::EwAdd));
  EXPECT_TRUE(isBinaryElementwise(LayerType::EwMin));
  EXPECT_TRUE(isBinaryElementwise(LayerType::EwEqual));
  EXPECT_FALSE(isBinaryElementwise(LayerType::MatMul));
  EXPECT_FALSE(isBinaryElementwise(LayerType::Normalization));
}

TEST(LayerTable, KeepsInputQuantization) {
  for (LayerType t : {LayerType::OutputLayer, LayerType::MaxPool, LayerType::Reshape,
                      LayerType::Transpose, LayerType::Slice, LayerType::ReduceMax})
    EXPECT_TRUE(keepsInputQuantization(t)) << typeWord(t);
  // These compute new values (or rescale their inputs onto one scale, like concat).
  for (LayerType t : {LayerType::AvgPool, LayerType::Concat, LayerType::ReduceMean,
                      LayerType::Activation, LayerType::Conv})
    EXPECT_FALSE(keepsInputQuantization(t)) << typeWord(t);
}

TEST(LayerTable, WeightsAndFusedActivations) {
  for (LayerType t : {LayerType::Conv, LayerType::Dw, LayerType::Deconv, LayerType::Fc})
    EXPECT_TRUE(hasWeights(t)) << typeWord(t);
  EXPECT_FALSE(hasWeights(LayerType::MatMul));         // two run-time operands
  EXPECT_FALSE(hasWeights(LayerType::Normalization));  // scale and bias, no kernel
  EXPECT_TRUE(canFuseActivation(LayerType::Conv));
  EXPECT_TRUE(canFuseActivation(LayerType::EwAdd));
  EXPECT_FALSE(canFuseActivation(LayerType::EwMax));
  EXPECT_FALSE(canFuseActivation(LayerType::MaxPool));
  EXPECT_FALSE(canFuseActivation(LayerType::Activation));
}

TEST(LayerTable, MacKinds) {
  EXPECT_EQ(macKind(LayerType::Dw), MacKind::Conv);
  EXPECT_EQ(macKind(LayerType::Reshape), MacKind::None);
  EXPECT_EQ(macKind(LayerType::AvgPool), MacKind::Window);
  EXPECT_EQ(macKind(LayerType::Softmax), MacKind::InElems);
  EXPECT_EQ(macKind(LayerType::EwAdd), MacKind::OutElems);
  EXPECT_TRUE(multipliesAccumulates(LayerType::MatMul));
  EXPECT_FALSE(multipliesAccumulates(LayerType::GlobalAvgPool));
}

// Rules between the columns that every row must keep.
TEST(LayerTable, ColumnsAgree) {
  for (LayerType t : allLayerTypes()) {
    EXPECT_TRUE(isQuantizable(t)) << typeWord(t);  // every type has an integer implementation
    if (isBinaryElementwise(t)) {
      EXPECT_EQ(minInputs(t), 2) << typeWord(t);
      EXPECT_EQ(maxInputs(t), 2) << typeWord(t);
    }
    if (hasWeights(t)) {
      EXPECT_TRUE(multipliesAccumulates(t)) << typeWord(t);
    }
    if (keepsInputQuantization(t)) {
      EXPECT_GE(minInputs(t), 1) << typeWord(t);
      EXPECT_FALSE(multipliesAccumulates(t)) << typeWord(t);
    }
  }
}

// input [1,3,8,8] -> conv 4 (3x3, pad 1) relu -> global average pool -> output [1,4,1,1].
Graph smallCnn() {
  return importText(std::string("<ir_version: 8, opset_import: [\"\" : 17]>\n") +
                    "g (float[1,3,8,8] x) => (float[1,4,1,1] y) {\n"
                    "  w = Constant <value = " +
                    tensorLiteral({4, 3, 3, 3}, 1) +
                    "> ()\n"
                    "  b = Constant <value = " +
                    tensorLiteral({4}, 2) +
                    "> ()\n"
                    "  c = Conv <pads = [1, 1, 1, 1]> (x, w, b)\n"
                    "  r = Relu (c)\n"
                    "  y = GlobalAveragePool (r)\n}");
}

TEST(LayerMacs, CountsByMacKind) {
  const Graph g = smallCnn();
  ASSERT_EQ(layerTypes(g), "input_layer conv+relu global_avg_pool output_layer");
  const Layer& conv = g.layers[1];
  const Layer& pool = g.layers[2];
  EXPECT_EQ(layerMacs(g, conv), 4 * 8 * 8 * (3 * 3 * 3));  // output elements x Cin kh kw
  EXPECT_EQ(layerElementOps(g, conv), 0);
  EXPECT_EQ(layerMacs(g, pool), 0);
  EXPECT_EQ(layerElementOps(g, pool), 4 * 8 * 8);  // one per input element
  EXPECT_EQ(layerMacs(g, g.layers[0]), 0);
  EXPECT_EQ(layerElementOps(g, g.layers[3]), 0);
}

}  // namespace
}  // namespace kiln::test
