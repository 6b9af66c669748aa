// kiln optimize --target-snr (automatic mixed precision) and kiln analyze-noise from the command
// line, on the shipped digits CNN with its test images as held-out data.
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

std::string tmp(const std::string& name) {
  return testTmp("mixcli", name);
}
CliRun kiln(const std::string& args) {
  return runKiln("mixcli", args);
}

std::string parsed() {
  const std::string kar = tmp("digits.kar");
  EXPECT_EQ(kiln("parser onnx " + kDigitsDir + "digits_cnn.onnx --har-path " + kar).status, 0);
  return kar;
}

const std::string kCalib = " --calib-set-path " + kDigitsDir + "calib.npy";
const std::string kHeldOut = " --data-path " + kDigitsDir + "test_x.npy";

// The held-out SNR the plain a8_w8 build reaches is about 40.7 dB; 42 dB needs a 16-bit tensor.
TEST(MixedPrecisionCli, ReachesTheTargetAndTheSavedScriptRebuildsTheArchive) {
  const std::string kar = parsed(), out = tmp("mixed.kar");
  const CliRun r = kiln("optimize " + kar + kCalib + " --target-snr 42" + kHeldOut +
                        " --output-har-path " + out);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("target met"), std::string::npos) << r.out;
  const std::string script = slurp(out + ".mixed.alls");
  EXPECT_NE(script.find("precision_mode=a8_w8_a16"), std::string::npos) << script;
  EXPECT_NE(slurp(out + ".mixed.json").find("\"met\": true"), std::string::npos);
  // The held-out measurement of the result agrees with the target.
  const std::string json = tmp("noise.json");
  ASSERT_EQ(kiln("analyze-noise " + out + kHeldOut + " --json " + json).status, 0);
  const std::string noise = slurp(json);
  const size_t at = noise.find("\"snr_db\": ");
  ASSERT_NE(at, std::string::npos) << noise;
  EXPECT_GE(std::stod(noise.substr(at + 10)), 42.0) << noise;
  // Byte for byte from the saved script, without the search.
  const std::string again = tmp("again.kar");
  ASSERT_EQ(kiln("optimize " + kar + kCalib + " --model-script " + out + ".mixed.alls" +
                 " --output-har-path " + again)
                .status,
            0);
  EXPECT_EQ(slurp(out), slurp(again));
}

TEST(MixedPrecisionCli, AnUnreachableTargetExitsWithStatus3AndKeepsTheBestScript) {
  const std::string kar = parsed(), out = tmp("mixed.kar");
  const CliRun r = kiln("optimize " + kar + kCalib + " --target-snr 90 --max-16bit-fraction 0.01" +
                        kHeldOut + " --output-har-path " + out);
  EXPECT_EQ(r.status, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("TARGET NOT MET"), std::string::npos) << r.out;
  EXPECT_TRUE(exists(out + ".mixed.alls"));
  // The kept round is the one closest to the target (the worst output's SNR highest), and the
  // script and archive are that round's.
  const auto json = nlohmann::json::parse(slurp(out + ".mixed.json"));
  const auto& rounds = json.at("rounds");
  ASSERT_GE(rounds.size(), 1u);
  auto worst = [](const nlohmann::json& round) {
    double w = 1e300;
    for (double v : round.at("snr_db")) w = std::min(w, v);
    return w;
  };
  const int kept = json.at("kept_round").get<int>();
  ASSERT_GE(kept, 1);
  ASSERT_LE(size_t(kept), rounds.size());
  for (const auto& round : rounds) EXPECT_LE(worst(round), worst(rounds[kept - 1]));
  EXPECT_EQ(json.at("lines"), rounds[kept - 1].at("lines"));
  const std::string script = slurp(out + ".mixed.alls");
  for (const auto& line : json.at("lines"))
    EXPECT_NE(script.find(line.get<std::string>()), std::string::npos) << script;
}

// --target-gates: the config's gates judge each round on the held-out data. The digits build
// reaches about 40.7 dB at a8_w8, so a min_output_snr_db gate of 42 fails until a tensor is lifted;
// the agreement gate passes throughout and must stay passing.
std::string gatesConfig(const std::string& snr) {
  const std::string path = tmp("gates.yaml");
  std::ofstream(path) << "name: digits_gates\nonnx: " << kDigitsDir
                      << "digits_cnn.onnx\ncalib: " << kDigitsDir << "calib.npy\n"
                      << "eval:\n  data: " << kDigitsDir << "test_x.npy\n  outputs:\n"
                      << "    logits: {kind: classes}\nexpect:\n  min_agreement: 0.99\n"
                      << "  min_output_snr_db: " << snr << "\n";
  return path;
}

TEST(MixedPrecisionCli, TargetGatesMeetsTheConfigsGatesAndRecordsThem) {
  const std::string kar = parsed(), out = tmp("gates.kar");
  const CliRun r =
      kiln("optimize " + kar + kCalib + " --target-gates " + gatesConfig("42") + " --data-path " +
           kDigitsDir + "calib.npy --data-size 16" + " --output-har-path " + out);
  // calib.npy as held-out data: the test only needs samples; the warning is for eval: data.
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("target met"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pass held-out: min_output_snr_db 42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pass held-out: min_agreement 0.99"), std::string::npos) << r.out;
  const std::string script = slurp(out + ".mixed.alls");
  EXPECT_NE(script.find("# kiln optimize --target-gates"), std::string::npos) << script;
  // Single tensors and whole layers were tried (each built and measured); one of them is chosen.
  EXPECT_NE(r.out.find("mixed precision: trial "), std::string::npos) << r.out;
  EXPECT_TRUE(script.find("precision_mode=a8_w8_a16") != std::string::npos ||
              script.find("precision_mode=a16_w16") != std::string::npos)
      << script;
  const std::string json = slurp(out + ".mixed.json");
  EXPECT_NE(json.find("\"target\": \"gates\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"key\": \"min_output_snr_db\""), std::string::npos) << json;
  // The trial builds leave no trace: the saved script rebuilds the archive byte for byte.
  const std::string again = tmp("gates_again.kar");
  ASSERT_EQ(kiln("optimize " + kar + kCalib + " --model-script " + out + ".mixed.alls" +
                 " --output-har-path " + again)
                .status,
            0);
  EXPECT_EQ(slurp(out), slurp(again));
}

// --search-trials 0: single tensors only, ranked by their lift runs, no trial build.
TEST(MixedPrecisionCli, TargetGatesWithoutTrialsLiftsSingleTensors) {
  const std::string kar = parsed(), out = tmp("gates_single.kar");
  const CliRun r =
      kiln("optimize " + kar + kCalib + " --target-gates " + gatesConfig("42") + " --data-path " +
           kDigitsDir + "calib.npy --data-size 16" + " --search-trials 0 --output-har-path " + out);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("target met"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("mixed precision: trial "), std::string::npos) << r.out;
  const std::string script = slurp(out + ".mixed.alls");
  EXPECT_NE(script.find("precision_mode=a8_w8_a16"), std::string::npos) << script;
  EXPECT_EQ(script.find("precision_mode=a16_w16"), std::string::npos) << script;
}

TEST(MixedPrecisionCli, TargetGatesMissedExitsWith3AndBadUsageIsRefused) {
  const std::string kar = parsed(), out = tmp("gates_miss.kar");
  const CliRun r = kiln("optimize " + kar + kCalib + " --target-gates " + gatesConfig("90") +
                        " --max-16bit-fraction 0.01 --data-path " + kDigitsDir +
                        "calib.npy --data-size 8 --output-har-path " + out);
  EXPECT_EQ(r.status, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL held-out: min_output_snr_db 90"), std::string::npos) << r.out;
  // Both targets, or the gates without held-out data, or the evaluation set as search data.
  const std::string cfg = gatesConfig("42");
  CliRun bad = kiln("optimize " + kar + kCalib + " --target-snr 30 --target-gates " + cfg +
                    kHeldOut + " --output-har-path " + out);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("one of --target-snr and --target-gates"), std::string::npos) << bad.err;
  bad = kiln("optimize " + kar + kCalib + " --target-gates " + cfg + " --output-har-path " + out);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--data-path"), std::string::npos) << bad.err;
  bad = kiln("optimize " + kar + kCalib + " --max-16bit-fraction 0.5 --output-har-path " + out);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("belongs to the mixed-precision search"), std::string::npos) << bad.err;
}

TEST(MixedPrecisionCli, TargetWithoutHeldOutDataIsAUsageError) {
  const CliRun r =
      kiln("optimize " + parsed() + kCalib + " --target-snr 30 --output-har-path " + tmp("x.kar"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--data-path"), std::string::npos) << r.err;
}

TEST(AnalyzeNoiseCli, AdvancedWritesTheDocumentedJsonAndRefusesAParsedArchive) {
  const std::string kar = parsed(), opt = tmp("opt.kar"), json = tmp("noise.json");
  ASSERT_EQ(kiln("optimize " + kar + kCalib + " --output-har-path " + opt).status, 0);
  const CliRun r = kiln("analyze-noise " + opt + kHeldOut + " --mode advanced --json " + json);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("quantization_param("), std::string::npos) << r.out;
  const std::string j = slurp(json);
  for (const char* key : {"\"kind\": \"kiln-noise-analysis\"", "\"version\": 1",
                          "\"mode\": \"advanced\"", "\"lift16_gain_db\"", "\"quantize_only_db\"",
                          "\"fps_before\"", "\"activation_bytes\"", "\"samples\": 16"})
    EXPECT_NE(j.find(key), std::string::npos) << key;
  const CliRun bad = kiln("analyze-noise " + kar + kHeldOut);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("not an optimized archive"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace kiln::test
