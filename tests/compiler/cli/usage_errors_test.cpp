// `kiln` usage mistakes from the bad-input campaign (issue 12): unknown commands and mistyped
// options get a did-you-mean, numeric flags a range, an empty --output-dir is refused (it wrote
// into /), a dynamic --tensor-shapes dimension is named; and rt::Error reaching main is a user
// error, not an internal one.
#include <sstream>
#include <string>

#include "compiler/cli/errors.h"
#include "runtime/engine/program.h"
#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

CliRun kiln(const std::string& args) {
  return runKiln("usagecli", args);
}

void expectUsage(const std::string& args, const std::string& message) {
  const CliRun r = kiln(args);
  EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << args << "\n" << r.err;
}

TEST(UsageCli, UnknownCommandIsNamedWithTheCommands) {
  expectUsage("foo",
              "kiln: error: unknown command 'foo' (commands: parser, info, optimize, "
              "analyze-noise, compiler, compile, report, infer, check-script, profiler, "
              "visualizer, eval; see 'kiln --help')");
  expectUsage("hailomz x.kar", "unknown command 'hailomz'");
  expectUsage("optimise x.kar",
              "unknown command 'optimise' (commands: parser, info, optimize, analyze-noise, "
              "compiler, compile, report, infer, check-script, profiler, visualizer, eval; did "
              "you mean optimize?");
  expectUsage("report marge a.json",
              "unknown command 'report marge' (report commands: merge; "
              "did you mean merge?; see 'kiln report --help')");
}

TEST(UsageCli, MistypedOptionGetsASuggestion) {
  expectUsage("optimize x.kar --calib-sze 3",
              "unknown option --calib-sze for 'kiln optimize'; did you mean --calib-size?");
  expectUsage("compiler x.kar --hw-ach hailo8",
              "unknown option --hw-ach for 'kiln compiler'; did you mean --hw-arch?");
}

TEST(UsageCli, NumericFlagsSayTheirRange) {
  expectUsage("optimize x.kar --use-random-calib-set --calib-size 99999999999",
              "--calib-size: 99999999999 is out of range; expected an integer from 1 to 1000000");
  expectUsage("optimize x.kar --use-random-calib-set --calib-size -5",
              "--calib-size: -5 is out of range; expected an integer from 1 to 1000000");
  expectUsage("compile x.onnx --use-random-calib-set --calib-size 12x",
              "--calib-size: '12x' is not an integer; expected an integer from 1 to 1000000");
  expectUsage("compile --manifest m.yaml -j 0", "expected an integer from 1 to 1024");
  expectUsage("compile x.onnx --use-random-calib-set --verify-samples -1",
              "--verify-samples: -1 is out of range; expected an integer from 0 to 1000000");
}

TEST(UsageCli, EmptyOutputDirIsRefused) {
  const std::string msg = "--output-dir: an empty path (\"\") would put the files in /";
  expectUsage("infer x.kar --input-files a.npy --output-dir ''", msg);
  expectUsage("compiler x.kar --output-dir ''", msg);
  expectUsage("compile x.onnx --use-random-calib-set --output-dir ''", msg);
  expectUsage("report merge a.json --output-dir ''", msg);
  expectUsage("optimize x.kar --use-random-calib-set --output-har-path ''",
              "--output-har-path: an empty path");
}

TEST(UsageCli, DynamicTensorShapeNamesTheDimension) {
  const CliRun r = kiln("parser onnx " + kDigitsDir +
                        "digits_cnn.onnx --tensor-shapes input=[-1,1,8,8] --har-path " +
                        testTmp("usagecli", "x.kar"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("--tensor-shapes 'input=[-1,1,8,8]': dimension 0 is '-1'; expected a "
                       "positive integer"),
            std::string::npos)
      << r.err;
}

TEST(UsageCli, RuntimeErrorIsAUserErrorNotInternal) {
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  const int status = cli::reportError(
      std::make_exception_ptr(rt::Error("model.kef: the arena needs 9 GB, more than the limit")));
  std::cerr.rdbuf(old);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(err.str(),
            "kiln: error: runtime: model.kef: the arena needs 9 GB, more than the limit\n");
}

}  // namespace
}  // namespace kiln::test
