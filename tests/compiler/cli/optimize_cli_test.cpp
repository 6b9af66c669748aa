// `kiln optimize` and `kiln infer --target quantized` from the command line, on the shipped
// digits CNN: accuracy, script errors, determinism, output formats.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/npy.h"
#include "tests/support/cli_test_util.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const std::string& kDir = kDigitsDir;

std::string tmp(const std::string& name) {
  return testTmp("optcli", name);
}

CliRun kiln(const std::string& args) {
  return runKiln("optcli", args);
}

std::string parsed() {
  const std::string kar = tmp("digits.kar");
  EXPECT_EQ(kiln("parser onnx " + kDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  return kar;
}

std::string script(const std::string& text) {
  const std::string p = tmp("model.alls");
  std::ofstream(p) << text;
  return p;
}

double accuracy(const std::string& logitsNpy) {
  const auto logits = npy::load(logitsNpy).toFloat();
  const auto labels = npy::load(kDir + "test_y.npy").toFloat();
  int correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto row = logits.begin() + long(i * 10);
    correct += int(std::max_element(row, row + 10) - row) == int(labels[i]);
  }
  return 100.0 * correct / double(labels.size());
}

double quantizedAccuracy(const std::string& scriptText) {
  const std::string kar = parsed(), out = tmp("opt.kar");
  std::string args =
      "optimize " + kar + " --calib-set-path " + kDir + "calib.npy --output-har-path " + out;
  if (!scriptText.empty()) args += " --model-script " + script(scriptText);
  const CliRun r = kiln(args);
  EXPECT_EQ(r.status, 0) << r.err;
  const CliRun inf = kiln("infer " + out + " --target quantized --input-files " + kDir +
                          "test_x.npy --output-dir " + tmp("q"));
  EXPECT_EQ(inf.status, 0) << inf.err;
  return accuracy(tmp("q") + "/logits.npy");
}

double floatAccuracy() {
  const CliRun r = kiln("infer " + parsed() + " --target native --input-files " + kDir +
                        "test_x.npy --output-dir " + tmp("f"));
  EXPECT_EQ(r.status, 0) << r.err;
  return accuracy(tmp("f") + "/logits.npy");
}

TEST(OptimizeCli, DigitsA8W8WithinOnePoint) {
  const double f = floatAccuracy(), q = quantizedAccuracy("");
  std::cout << "float " << f << " %, a8_w8 " << q << " %\n";
  EXPECT_GE(q, f - 1.0);
}

TEST(OptimizeCli, DigitsA16W16WithinPointTwo) {
  const double f = floatAccuracy(),
               q = quantizedAccuracy("quantization_param({*}, precision_mode=a16_w16)\n");
  std::cout << "float " << f << " %, a16_w16 " << q << " %\n";
  EXPECT_GE(q, f - 0.2);
}

TEST(OptimizeCli, OptimizingTwiceGivesIdenticalBytes) {
  const std::string kar = parsed();
  const std::string s = script("quantization_param(conv2, precision_mode=a16_w16)\n");
  for (const char* out : {"a.kar", "b.kar"})
    ASSERT_EQ(kiln("optimize " + kar + " --calib-set-path " + kDir + "calib.npy --model-script " +
                   s + " --output-har-path " + tmp(out))
                  .status,
              0);
  EXPECT_EQ(slurp(tmp("a.kar")), slurp(tmp("b.kar")));
}

// The float and quantized emulation split their work over KILN_THREADS threads (GEMM columns,
// depthwise planes, the noise report's layers): the archive is the same bytes for any count, with
// bias correction and weight rounding (level 2) and a 16-bit layer.
TEST(OptimizeCli, SameBytesForAnyThreadCount) {
  const std::string kar = parsed();
  const std::string s = script(
      "model_optimization_flavor(optimization_level=2)\n"
      "quantization_param(conv2, precision_mode=a16_w16)\n");
  const char* saved = std::getenv("KILN_THREADS");
  const std::string restore = saved ? saved : "";
  std::vector<std::string> archives;
  for (const char* threads : {"1", "2", "3"}) {
    ::setenv("KILN_THREADS", threads, 1);
    const std::string out = tmp(std::string("threads") + threads + ".kar");
    const CliRun r = kiln("optimize " + kar + " --calib-set-path " + kDir +
                          "calib.npy --model-script " + s + " --output-har-path " + out);
    EXPECT_EQ(r.status, 0) << r.err;
    archives.push_back(slurp(out));
  }
  if (saved)
    ::setenv("KILN_THREADS", restore.c_str(), 1);
  else
    ::unsetenv("KILN_THREADS");
  ASSERT_FALSE(archives[0].empty());
  EXPECT_EQ(archives[0], archives[1]);
  EXPECT_EQ(archives[0], archives[2]);
}

TEST(OptimizeCli, InfoShowsPrecisionAndItsSource) {
  const std::string kar = parsed(), out = tmp("opt.kar");
  const std::string s = script("# digits\nquantization_param(/fc/Gemm, precision_mode=a8_w4)\n");
  ASSERT_EQ(kiln("optimize " + kar + " --calib-set-path " + kDir + "calib.npy --model-script " + s +
                 " --output-har-path " + out)
                .status,
            0);
  const CliRun info = kiln("info " + out);
  EXPECT_NE(info.out.find("a8_w4 (" + s + ":2)"), std::string::npos) << info.out;
}

TEST(OptimizeCli, ScriptErrorsPointAtTheLine) {
  const std::string kar = parsed();
  auto err = [&](const std::string& text, bool strict = false) {
    const CliRun r =
        kiln("optimize " + kar + " --calib-set-path " + kDir + "calib.npy --model-script " +
             script(text) + (strict ? " --strict" : "") + " --output-har-path " + tmp("x.kar"));
    EXPECT_EQ(r.status, 1);
    struct stat st;
    EXPECT_NE(::stat(tmp("x.kar").c_str(), &st), 0) << "no output on error";
    return r.err;
  };
  EXPECT_NE(err("quantization_param(conv9, precision_mode=a8_w8)\n").find(":1:20: error: "),
            std::string::npos);
  EXPECT_NE(err("quantization_param(conv9, precision_mode=a8_w8)\n").find("conv1"),
            std::string::npos);
  EXPECT_NE(err("\nquantization_param(conv1, precision_mode=a7_w9)\n").find(":2:"),
            std::string::npos);
  EXPECT_NE(err("\nquantization_param(conv1, precision_mode=a7_w9)\n").find("a16_w16"),
            std::string::npos);
  // performance_param is honoured by kiln compiler: no warning; allocator_param is not applied.
  EXPECT_NE(err("allocator_param(timeout=600)\n", true).find("--strict"), std::string::npos);
}

TEST(OptimizeCli, CalibrationOptionsAreChecked) {
  const std::string kar = parsed();
  CliRun r = kiln("optimize " + kar);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("exactly one of --calib-set-path"), std::string::npos) << r.err;
  r = kiln("optimize " + kar + " --calib-set-path " + kDir + "test_y.npy");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("test_y.npy"), std::string::npos) << r.err;
  r = kiln("optimize " + kar + " --use-random-calib-set --output-har-path " + tmp("r.kar"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("random data"), std::string::npos) << r.err;
}

TEST(OptimizeCli, WarnsAboutDoubleNormalizationAndSmallSets) {
  // The digits calibration data is already in [0, 1]: a script that normalizes again is suspect.
  const std::string kar = parsed();
  const CliRun r =
      kiln("optimize " + kar + " --calib-set-path " + kDir +
           "calib.npy --calib-size 200 --model-script " + script("normalization([0.5], [0.25])\n") +
           " --output-har-path " + tmp("n.kar"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("normalized twice"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fewer than the 200 requested"), std::string::npos) << r.err;
}

TEST(OptimizeCli, ReportIsInTheArchiveAndBesideIt) {
  const std::string kar = parsed(), out = tmp("opt.kar");
  ASSERT_EQ(kiln("optimize " + kar + " --use-random-calib-set --output-har-path " + out).status, 0);
  const std::string beside = slurp(out + ".report.json");
  EXPECT_NE(beside.find("\"random\": true"), std::string::npos);
  EXPECT_NE(beside.find("\"snr_db\""), std::string::npos);
  ASSERT_EQ(
      std::system(("tar xOf " + out + " optimize/report.json > " + tmp("inner.json")).c_str()), 0);
  EXPECT_EQ(slurp(tmp("inner.json")), beside);
}

TEST(OptimizeCli, DegenerateOutputIsALoudWarning) {
  // A logits range forced far away from the data: the quantized output sits at one end of its
  // grid on every sample while the float output moves. That is the quantized network collapsing.
  const CliRun r =
      kiln("optimize " + parsed() + " --calib-set-path " + kDir + "calib.npy --model-script " +
           script("quantization_param(fc1, force_range_out=[500000, 500001])\n") +
           " --output-har-path " + tmp("d.kar"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("IS NEAR-CONSTANT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("has collapsed"), std::string::npos) << r.err;
}

TEST(OptimizeCli, IdenticalCalibrationSamplesAreBlamedNotTheNetwork) {
  // One digit repeated 64 times: every output is constant over the set, in float too. The
  // warning must say the samples are alike, not that the quantized network collapsed.
  const npy::Array all = npy::load(kDir + "calib.npy");
  const std::vector<float> values = all.toFloat();
  std::vector<float> repeated;
  for (int i = 0; i < 64; ++i) repeated.insert(repeated.end(), values.begin(), values.begin() + 64);
  const std::string calib = tmp("repeated.npy");
  npy::save(calib, npy::fromFloat(repeated, {64, 1, 8, 8}));
  const CliRun r = kiln("optimize " + parsed() + " --calib-set-path " + calib +
                        " --output-har-path " + tmp("r.kar"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("the calibration samples look alike"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("collapsed"), std::string::npos) << r.err;
}

TEST(OptimizeCli, ActivationClippingOldAndNewSpellings) {
  const std::string kar = parsed();
  for (const char* text :
       {"quantization_param(conv2, activation_clipping_mode=percentile, "
        "activation_clipping_values=[0.0, 99.0])\n",
        "pre_quantization_optimization(activation_clipping, layers=[conv2], mode=percentile, "
        "clipping_values=[0.0, 99.0])\n"}) {
    const std::string out = tmp("clip.kar");
    const CliRun r = kiln("optimize " + kar + " --calib-set-path " + kDir +
                          "calib.npy --model-script " + script(text) + " --output-har-path " + out);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("activation clipping: conv2 range [0, "), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("not applied"), std::string::npos) << r.err;
  }
}

TEST(OptimizeCli, BiasCorrectionFollowsLevelAndPolicy) {
  const std::string kar = parsed();
  auto run = [&](const std::string& text, const std::string& name) {
    const CliRun r =
        kiln("optimize " + kar + " --calib-set-path " + kDir + "calib.npy --model-script " +
             script(text) + " --output-har-path " + tmp(name));
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  };
  const std::string on = run("model_optimization_flavor(optimization_level=1)\n", "on.kar");
  const std::string off =
      run("post_quantization_optimization(bias_correction, policy=disabled)\n", "off.kar");
  EXPECT_NE(on.find("bias correction: "), std::string::npos) << on;
  EXPECT_EQ(off.find("bias correction: "), std::string::npos) << off;
  EXPECT_NE(slurp(tmp("on.kar")), slurp(tmp("off.kar")));  // the integer biases moved
}

TEST(OptimizeCli, InferTargetsAndFormats) {
  const std::string kar = parsed(), out = tmp("opt.kar");
  ASSERT_EQ(
      kiln("optimize " + kar + " --calib-set-path " + kDir + "calib.npy --output-har-path " + out)
          .status,
      0);
  EXPECT_NE(kiln("infer " + kar + " --target quantized --input-files " + kDir +
                 "test_x.npy --output-dir " + tmp("o"))
                .err.find("run kiln optimize first"),
            std::string::npos);
  EXPECT_NE(kiln("infer " + out + " --target native --input-files " + kDir +
                 "test_x.npy --output-dir " + tmp("o"))
                .err.find("fp-optimized"),
            std::string::npos);
  ASSERT_EQ(kiln("infer " + out + " --target quantized --user-format-type auto --input-files " +
                 kDir + "test_x.npy --output-dir " + tmp("auto"))
                .status,
            0);
  const npy::Array raw = npy::load(tmp("auto") + "/logits.npy");
  EXPECT_EQ(raw.type, npy::ElemType::u8);
  EXPECT_EQ(raw.shape, (Shape{360, 10}));
  ASSERT_EQ(kiln("infer " + out + " --target fp-optimized --input-files " + kDir +
                 "test_x.npy --output-dir " + tmp("fp"))
                .status,
            0);
  EXPECT_GT(accuracy(tmp("fp") + "/logits.npy"), 99.0);
}

}  // namespace
}  // namespace kiln::test
