// Model scripts from the bad-input campaign (issue 12) through the command line: `kiln optimize`
// on deep nesting, CR-only line ends and wrapped numbers; `kiln compiler --model-script` on
// unknown commands and keys, optimization commands and a zero utilization. The digits CNN.
#include <fstream>
#include <string>

#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

std::string tmp(const std::string& name) {
  return testTmp("scriptcli", name);
}

CliRun kiln(const std::string& args) {
  return runKiln("scriptcli", args);
}

std::string script(const std::string& text) {
  const std::string p = tmp("model.alls");
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// The parsed digits CNN and an optimized copy, made once for the suite.
class ScriptCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Per process: CTest runs each test of the suite as its own process, in parallel.
    const std::string dir = ::testing::TempDir() + "/scriptcli_suite_" + std::to_string(::getpid());
    parsed_ = dir + "_digits.kar";
    optimized_ = dir + "_digits_opt.kar";
    ASSERT_EQ(std::system((std::string(KILN_BINARY) + " parser onnx " + kDigitsDir +
                           "digits_cnn.onnx --har-path " + parsed_ + " >/dev/null")
                              .c_str()),
              0);
    ASSERT_EQ(std::system((std::string(KILN_BINARY) + " optimize " + parsed_ +
                           " --use-random-calib-set --report-samples 2 --output-har-path " +
                           optimized_ + " >/dev/null 2>&1")
                              .c_str()),
              0);
  }
  CliRun optimize(const std::string& text) {
    return kiln("optimize " + parsed_ + " --use-random-calib-set --report-samples 2 " +
                "--model-script " + script(text) + " --output-har-path " + tmp("out.kar"));
  }
  CliRun compiler(const std::string& text) {
    return kiln("compiler " + optimized_ + " --model-script " + script(text) + " --output-dir " +
                tmp("out"));
  }
  static std::string parsed_, optimized_;
};
std::string ScriptCli::parsed_, ScriptCli::optimized_;

TEST_F(ScriptCli, OptimizeRefusesDeepNestingWithAnError) {
  const CliRun r = optimize("quantization_param(" + std::string(50000, '['));
  EXPECT_EQ(r.status, 1) << r.err.substr(0, 400);
  EXPECT_NE(r.err.find(":1:83: error: brackets nested too deeply"), std::string::npos)
      << r.err.substr(0, 400);
  EXPECT_LT(r.err.size(), 1000u);
}

TEST_F(ScriptCli, OptimizeReadsCrOnlyScripts) {
  // A comment first and CR-only line ends: the unknown layer is reported, not ignored.
  const CliRun r = optimize("# mixed\rquantization_param(conv9, precision_mode=a16_w16)\r");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(":2:20: error: layer reference 'conv9' matches no layer"), std::string::npos)
      << r.err;
}

TEST_F(ScriptCli, OptimizeRefusesNumbersThatWouldWrap) {
  for (const std::string v : {"-1", "18446744073709551617", "[1,2]"}) {
    const CliRun r = optimize("model_optimization_config(calibration, calibset_size=" + v + ")\n");
    EXPECT_EQ(r.status, 1) << v;
    EXPECT_NE(r.err.find(":1:54: error: calibset_size expects a whole number from 1 to 1000000"),
              std::string::npos)
        << r.err;
  }
}

TEST_F(ScriptCli, CompilerValidatesItsModelScript) {
  CliRun r = compiler("frobnicate(x=1)\nperformance_param(fpz=5)\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(":1:1: error: unknown command 'frobnicate'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":2:19: error: unknown key 'fpz' for performance_param; did you mean fps?"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(exists(tmp("out") + "/digits_cnn.kef"));

  r = compiler("resources_param(max_memory_utilization=0)\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(":1:40: error: max_memory_utilization expects a number in (0, 2], found 0"),
            std::string::npos)
      << r.err;
}

TEST_F(ScriptCli, CompilerWarnsAboutWhatItDoesNotRead) {
  const CliRun r = compiler(
      "quantization_param(conv2, precision_mode=a16_w16)\n"
      "resources_param(max_memory_utilization=0.5, max_apu_utilization=0.9)\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find(":1:1: warning: quantization_param (line 1) has no effect in kiln "
                       "compiler: optimization commands act in kiln optimize"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find(":2: resources_param key max_apu_utilization is parsed, not applied"),
            std::string::npos)
      << r.out;
  EXPECT_NE(slurp(tmp("out") + "/digits_cnn.compile.json").find("\"max_memory_utilization\": 0.5"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln::test
