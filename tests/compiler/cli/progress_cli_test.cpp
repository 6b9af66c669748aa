// What `kiln optimize` and `kiln compile` print while they work when stderr is not a terminal (a
// CI log): plain progress lines and the time of each step; warnings of a model script with one
// "warning:" prefix, not two; and a set of outputs that a kill cannot leave mixed.
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

std::string tmp(const std::string& name) {
  return testTmp("progresscli", name);
}

CliRun kiln(const std::string& args) {
  return runKiln("progresscli", args);
}

TEST(ProgressCli, OptimizeInAPipePrintsProgressLinesAndStepTimes) {
  const std::string kar = tmp("net.kar");
  ASSERT_EQ(kiln("parser onnx " + kDigitsDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  const CliRun r =
      kiln("optimize " + kar + " --calib-set-path " + kDigitsDir +
           "calib.npy --calib-size 32 --report-samples 4 --output-har-path " + kar + ".opt.kar");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* line : {"kiln: calibration ...\n", "kiln: calibration: 16/32 samples (",
                           "kiln: calibration: 32 "
                           "samples in ",
                           "kiln: noise report: 4 samples in ", "kiln: bias correction: "})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no terminal rewrites in a pipe";
  EXPECT_NE(r.out.find("Time: read "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", calibration "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", noise report "), std::string::npos) << r.out;
}

TEST(ProgressCli, ScriptWarningsHaveOnePrefix) {
  const std::string kar = tmp("net.kar"), script = tmp("w.alls");
  ASSERT_EQ(kiln("parser onnx " + kDigitsDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  std::ofstream(script) << "allocator_param(timeout=600)\n";  // parsed, not applied: a warning
  const CliRun r = kiln("optimize " + kar + " --use-random-calib-set --report-samples 2 " +
                        "--model-script " + script + " --output-har-path " + kar + ".opt.kar");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find(script + ":1:1: warning: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("kiln: warning: " + script), std::string::npos) << r.err;
}

TEST(ProgressCli, CompileRemovesTheOldSetBeforeWritingTheNewOne) {
  // A run that fails in optimize (as a kill would stop it) after a successful one: the new .kar,
  // and none of the old run's later files beside it.
  const std::string out = tmp("out");
  std::filesystem::remove_all(out);
  const std::string base = " --output-dir " + out + " --report-samples 2 --verify-samples 1";
  ASSERT_EQ(kiln("compile " + kDigitsDir + "digits_cnn.onnx --use-random-calib-set" + base).status,
            0);
  ASSERT_TRUE(exists(out + "/digits_cnn.kef"));
  const std::string bad = tmp("bad.alls");
  std::ofstream(bad) << "quantization_param(nosuchlayer, precision_mode=a16_w16)\n";
  const CliRun r = kiln("compile " + kDigitsDir + "digits_cnn.onnx --use-random-calib-set" + base +
                        " --model-script " + bad);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(exists(out + "/digits_cnn.kar"));  // the new parse
  for (const char* f : {"/digits_cnn.kef", "/digits_cnn.compile.json", "/digits_cnn_optimized.kar",
                        "/digits_cnn_optimized.kar.report.json"})
    EXPECT_FALSE(exists(out + f)) << f << " of the old run is still beside the new .kar";
}

}  // namespace
}  // namespace kiln::test
