// The decision chain the gate-driven search lifts whole (compiler/noise/gate_search.h): from the
// layer with weights nearest an output to the output, the layers with their own quantization,
// so that a head lifted to 16 bits is not rounded back to 8 bits by the resize or activation
// after it.
#include <gtest/gtest.h>

#include <algorithm>

#include "compiler/noise/gate_search.h"
#include "compiler/onnx/importer.h"
#include "compiler/optimize/noise_analysis.h"
#include "compiler/optimize/optimizer.h"
#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

// The digits CNN parsed with `o` and optimized (the chain needs each layer's quantization).
Graph optimized(const onnx::ImportOptions& o) {
  Archive parsed;
  parsed.graph = onnx::importFile(kDigitsDir + "digits_cnn.onnx", o);
  parsed.stages = {"parse"};
  optimize::OptimizeOptions opt;
  opt.calibPath = kDigitsDir + "calib.npy";
  opt.calibSizeOverride = 8;
  opt.reportSamples = 1;
  return optimize::optimize(parsed, opt).graph;
}

std::vector<std::string> chainNames(const Graph& g) {
  std::vector<std::string> n;
  for (int id : noise::decisionChain(g, g.outputLayers().at(0), optimize::noiseCandidates(g)))
    n.push_back(g.at(id).name);
  return n;
}

TEST(DecisionChain, IsTheNearestWeightedLayerWhenItFeedsTheOutput) {
  const Graph g = optimized({});
  EXPECT_EQ(chainNames(g), std::vector<std::string>{"fc1"});
}

TEST(DecisionChain, TakesTheLayersBetweenTheWeightedLayerAndTheOutput) {
  // Cut after the flatten: conv3 -> global average pool -> reshape -> output. The pool has its
  // own quantization and is in the chain; the reshape keeps its input's and is not.
  onnx::ImportOptions o;
  o.endNodes = {"/features/features.10/Flatten"};
  const Graph g = optimized(o);
  const std::vector<int> cands = optimize::noiseCandidates(g);
  const std::vector<std::string> names = chainNames(g);
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names.front(), "conv3");
  EXPECT_EQ(names.back(), "global_avg_pool1");
  for (int id : noise::decisionChain(g, g.outputLayers().at(0), cands)) {
    EXPECT_NE(g.at(id).type, LayerType::OutputLayer);
    if (g.at(id).name != "conv3") {
      EXPECT_NE(std::find(cands.begin(), cands.end(), id), cands.end()) << g.at(id).name;
    }
  }
}

}  // namespace
}  // namespace kiln::test
