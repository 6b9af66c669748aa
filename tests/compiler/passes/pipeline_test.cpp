// The import pipeline's test entry points: running it up to a pass and then that pass alone gives
// what runImportPipeline gives, unknown pass names are errors, and every pass of the pipeline has
// a before/after test suite in this folder (named after the pass: fuse_activation ->
// FuseActivation).
#include <cctype>

#include "compiler/ir/verifier.h"
#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// NHWC in, conv -> * per-channel constant -> x * Sigmoid(x) -> Relu: several passes fire.
std::string severalPatterns() {
  return std::string(kHeader) +
         "g (float[1,4,4,3] x) => (float[1,2,4,4] y) {\n"
         "  t = Transpose <perm = [0,3,1,2]> (x)\n"
         "  w = Constant <value = " +
         tensorLiteral({2, 3, 1, 1}, 1) +
         "> ()\n"
         "  c = Conv (t, w)\n"
         "  s = Constant <value = float[1,2,1,1] {0.5, 2.0}> ()\n"
         "  m = Mul (c, s)\n"
         "  g = Sigmoid (m)\n"
         "  u = Mul (m, g)\n"
         "  y = Relu (u)\n"
         "}";
}

// fuse_activation -> FuseActivation.
std::string suiteName(const std::string& pass) {
  std::string s;
  bool upper = true;
  for (char c : pass) {
    if (c == '_') {
      upper = true;
      continue;
    }
    s += upper ? char(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return s;
}

TEST(ImportPipeline, UntilTheLastPassThenItIsTheWholePipeline) {
  const std::string text = severalPatterns();
  const Graph whole = importText(text);
  const std::string last = passes::importPipeline().back().name;
  Graph stepwise = importBefore(text, last);
  passes::runPass(stepwise, last);
  verify(stepwise);
  EXPECT_EQ(dump(stepwise), dump(whole));
  expectSameFloatOutputs(stepwise, whole, 0.f);
}

TEST(ImportPipeline, PassByPassIsTheWholePipeline) {
  const std::string text = severalPatterns();
  const Graph whole = importText(text);
  Graph stepwise = importBefore(text, passes::importPipeline().front().name);
  for (const passes::Pass& p : passes::importPipeline()) passes::runPass(stepwise, p.name);
  EXPECT_EQ(dump(stepwise), dump(whole));
}

TEST(ImportPipeline, UnknownPassNamesAreErrors) {
  Graph g = importBefore(severalPatterns(), "fuse_activation");
  EXPECT_THROW(passes::runPass(g, "fuse_everything"), Error);
  EXPECT_THROW(passes::runPassesUntil(g, "fuse_everything"), Error);
}

TEST(ImportPipeline, EveryPassHasABeforeAfterTestSuite) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (const passes::Pass& p : passes::importPipeline()) {
    bool found = false;
    for (int i = 0; i < unit.total_test_suite_count(); ++i)
      found |= unit.GetTestSuite(i)->name() == suiteName(p.name);
    EXPECT_TRUE(found) << "no test suite " << suiteName(p.name) << " for the import pass " << p.name
                       << " (tests/compiler/passes/)";
  }
}

}  // namespace
}  // namespace kiln::test
