// Helpers for the before/after tests of the import passes (tests/compiler/passes/): the graph a
// pass receives inside the import pipeline, the graph it leaves, and their float outputs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compiler/passes/pipeline.h"
#include "tests/support/test_util.h"

namespace kiln::test {

/// The ONNX text model `text` imported and run through the import pipeline up to, not including,
/// the pass `pass`: the graph that pass receives when the whole model is imported.
inline Graph importBefore(const std::string& text, const std::string& pass) {
  onnx::ImportOptions o;
  o.runImportPasses = false;
  Graph g = importText(text, o);
  passes::runPassesUntil(g, pass);
  return g;
}

/// A copy of `before` with the pass `pass` run on it as the pipeline runs it.
inline Graph runPassOn(const Graph& before, const std::string& pass) {
  Graph after = before;
  passes::runPass(after, pass);
  return after;
}

/// Expects the text form of `g` (kiln::dump, as KILN_DUMP_IR prints it) to be `golden`; one
/// leading newline of `golden` is ignored, so it can be written as a raw string starting on its own
/// line. On a mismatch the whole graph is printed, ready to be read or pasted.
inline void expectIr(const Graph& g, const std::string& golden) {
  const std::string expected = !golden.empty() && golden[0] == '\n' ? golden.substr(1) : golden;
  const std::string actual = dump(g);
  EXPECT_EQ(actual, expected) << "the graph is:\n" << actual;
}

/// Expects the pass `pass` to leave `before` exactly as it is (the cases where it must not fire).
inline void expectUnchangedBy(const Graph& before, const std::string& pass) {
  const std::string after = dump(runPassOn(before, pass));
  EXPECT_EQ(after, dump(before)) << "the graph after " << pass << " is:\n" << after;
}

/// Expects `a` and `b` to compute the same outputs (within `tolerance`, absolute) on a few random
/// inputs of the shapes the user feeds.
inline void expectSameFloatOutputs(const Graph& a, const Graph& b, float tolerance = 1e-5f) {
  const std::vector<int> ins = a.inputLayers();
  ASSERT_EQ(ins.size(), b.inputLayers().size());
  for (unsigned seed = 0; seed < 3; ++seed) {
    std::vector<FloatBuffer> inputs;
    for (size_t k = 0; k < ins.size(); ++k)
      inputs.push_back(randomInput(a.at(ins[k]).attrInts("user_shape"), seed * 16 + unsigned(k)));
    const auto ya = runFloat(a, inputs), yb = runFloat(b, inputs);
    ASSERT_EQ(ya.size(), yb.size());
    for (size_t k = 0; k < ya.size(); ++k) {
      ASSERT_EQ(ya[k].shape, yb[k].shape) << "output " << k;
      float diff = 0;
      for (size_t i = 0; i < ya[k].data.size(); ++i)
        diff = std::max(diff, std::fabs(ya[k].data[i] - yb[k].data[i]));
      EXPECT_LE(diff, tolerance) << "output " << k << ", seed " << seed;
    }
  }
}

}  // namespace kiln::test
