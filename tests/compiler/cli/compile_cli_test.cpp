// `kiln compile` and `kiln compiler` from the command line on the shipped digits CNN: targets
// given space-separated beside the MODEL positional, and the warning when an output directory's
// <net>.kef of another graph or target is replaced.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

const std::string& kDir = kDigitsDir;

std::string tmp(const std::string& name) {
  return testTmp("compilecli", name);
}

CliRun kiln(const std::string& args) {
  return runKiln("compilecli", args);
}

TEST(CompileCli, HwArchTakesSpaceSeparatedTargetsBesideTheModel) {
  const std::string model = kDir + "digits_cnn.onnx",
                    calib = " --calib-set-path " + kDir + "calib.npy --report-samples 2";
  // Targets before the model, after it, and comma-separated: the model stays the model.
  const std::string both[] = {"--hw-arch hailo8 hailo8l " + model,
                              model + " --hw-arch hailo8 hailo8l",
                              "--hw-arch hailo8,hailo8l " + model};
  for (size_t i = 0; i < 3; ++i) {
    const std::string out = tmp("out" + std::to_string(i));
    const CliRun r = kiln("compile " + both[i] + calib + " --output-dir " + out);
    EXPECT_EQ(r.status, 0) << both[i] << "\n" << r.err;
    EXPECT_TRUE(exists(out + "/hailo8/digits_cnn.kef")) << both[i];
    EXPECT_TRUE(exists(out + "/hailo8l/digits_cnn.kef")) << both[i];
  }
  const std::string one = tmp("one");
  EXPECT_EQ(kiln("compile --hw-arch=hailo8l " + model + calib + " --output-dir " + one).status, 0);
  EXPECT_TRUE(exists(one + "/digits_cnn.kef"));
  // A wrong target among them is named, wherever the model is.
  for (const std::string& args :
       {"--hw-arch hailo8 hailo9 " + model, model + " --hw-arch hailo8 hailo9"}) {
    const CliRun r = kiln("compile " + args + calib + " --output-dir " + tmp("bad"));
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_NE(r.err.find("unknown hardware architecture 'hailo9' (did you mean hailo8?)"),
              std::string::npos)
        << r.err;
  }
  EXPECT_NE(kiln("compile --help").out.find("space- or comma-separated"), std::string::npos);
}

TEST(CompilerCli, WarnsWhenReplacingTheKefOfAnotherGraphOrTarget) {
  // Two graphs of one network (the whole CNN and a cut), each optimized.
  const std::string full = tmp("full.kar"), cut = tmp("cut.kar"), out = tmp("out");
  ASSERT_EQ(kiln("parser onnx " + kDir + "digits_cnn.onnx --har-path " + full).status, 0);
  ASSERT_EQ(kiln("parser onnx " + kDir + "digits_cnn.onnx --har-path " + cut +
                 " --end-node-names /features/features.5/Relu")
                .status,
            0);
  for (const std::string& kar : {full, cut})
    ASSERT_EQ(kiln("optimize " + kar +
                   " --use-random-calib-set --report-samples 2 "
                   "--output-har-path " +
                   kar + ".opt.kar")
                  .status,
              0);
  std::filesystem::remove_all(out);  // from an earlier run
  const std::string kef = out + "/digits_cnn.kef";
  CliRun r = kiln("compiler " + full + ".opt.kar --output-dir " + out);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = kiln("compiler " + full + ".opt.kar --output-dir " + out);  // a rebuild: silent
  EXPECT_EQ(r.err, "");
  r = kiln("compiler " + cut + ".opt.kar --output-dir " + out);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("kiln: warning: replacing " + kef +
                       ": it held digits_cnn a8 for hailo8 "
                       "from graph "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(use another --output-dir to keep both)"), std::string::npos) << r.err;
  r = kiln("compiler " + cut + ".opt.kar --output-dir " + out + " --hw-arch hailo8l");
  EXPECT_NE(r.err.find("now digits_cnn a8 for hailo8l from graph"), std::string::npos) << r.err;
  std::ofstream(kef) << "not an executable";
  r = kiln("compiler " + cut + ".opt.kar --output-dir " + out + " --hw-arch hailo8l");
  EXPECT_NE(r.err.find("it was not a readable .kef"), std::string::npos) << r.err;
  EXPECT_EQ(r.status, 0);
}

TEST(CompilerCli, WarnsWhenA16ReplacesA8OfTheSameGraph) {
  const std::string kar = tmp("net.kar"), out = tmp("out");
  ASSERT_EQ(kiln("parser onnx " + kDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  for (const std::string v : {"a8", "a16"})
    ASSERT_EQ(kiln("optimize " + kar + " --use-random-calib-set --report-samples 2 " +
                   (v == "a16" ? "--model-script " + kDir + "digits_a16.alls " : "") +
                   "--output-har-path " + kar + "." + v + ".kar")
                  .status,
              0);
  std::filesystem::remove_all(out);
  CliRun r = kiln("compiler " + kar + ".a8.kar --output-dir " + out);
  EXPECT_EQ(r.err, "");
  r = kiln("compiler " + kar + ".a16.kar --output-dir " + out);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("kiln: warning: replacing " + out +
                       "/digits_cnn.kef: it held digits_cnn "
                       "a8 for hailo8 from graph "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("now digits_cnn a16 for hailo8"), std::string::npos) << r.err;
}

TEST(CompilerCli, FailOnUnfitRefusesAPlanThatDoesNotFit) {
  // A memory override smaller than the largest layer: the plan has a context that does not fit.
  const std::string kar = tmp("net.kar"), script = tmp("tiny.alls"), out = tmp("out");
  ASSERT_EQ(kiln("parser onnx " + kDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  ASSERT_EQ(kiln("optimize " + kar + " --use-random-calib-set --report-samples 2 " +
                 "--output-har-path " + kar + ".opt.kar")
                .status,
            0);
  std::ofstream(script) << "resources_param(max_memory_utilization=0.0001)\n";
  std::filesystem::remove_all(out);
  CliRun r = kiln("compiler " + kar + ".opt.kar --model-script " + script + " --output-dir " + out);
  ASSERT_EQ(r.status, 0) << r.err;  // without the flag: written, as before
  ASSERT_NE(r.out.find("(does not fit)"), std::string::npos) << r.out;
  std::filesystem::remove_all(out);
  r = kiln("compiler " + kar + ".opt.kar --model-script " + script + " --output-dir " + out +
           " --fail-on-unfit");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("the resource plan on hailo8 does not fit: context 1 (layer conv2) needs"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(exists(out + "/digits_cnn.kef"));
}

TEST(CompilerCli, CleansTemporariesOfKilledRunsAndKeepsKefAndPlanTogether) {
  const std::string kar = tmp("net.kar"), out = tmp("out");
  ASSERT_EQ(kiln("parser onnx " + kDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  ASSERT_EQ(kiln("optimize " + kar + " --use-random-calib-set --report-samples 2 " +
                 "--output-har-path " + kar + ".opt.kar")
                .status,
            0);
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  // What kill -9 during writeFileAtomic leaves (pid 99999999 runs no process), and a file of
  // the user's that only looks alike.
  std::ofstream(out + "/digits_cnn.kef.tmp99999999") << "partial";
  std::ofstream(out + "/notes.tmpx") << "mine";
  const CliRun r = kiln("compiler " + kar + ".opt.kar --output-dir " + out);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(exists(out + "/digits_cnn.kef.tmp99999999"));
  EXPECT_TRUE(exists(out + "/notes.tmpx"));
  EXPECT_NE(r.err.find("removed 1 temporary file(s) left by a killed run: "
                       "digits_cnn.kef.tmp99999999"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace kiln::test
