// Network configs and manifests (compiler/batch/): keys, layering, paths relative to the YAML
// file, and every error with its file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compiler/batch/manifest.h"
#include "compiler/ir/types.h"

namespace kiln::batch {
namespace {

namespace fs = std::filesystem;
const std::string kDigits = std::string(KILN_SOURCE_DIR) + "/examples/digits/";

// A fresh directory per test with the digits model, its calibration set and script.
class BatchConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) /
            (std::string("batch_config_") +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .lexically_normal()
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/models");
    fs::copy_file(kDigits + "digits_cnn.onnx", dir_ + "/models/digits.onnx");
    fs::copy_file(kDigits + "calib.npy", dir_ + "/models/calib.npy");
    fs::copy_file(kDigits + "digits_a16.alls", dir_ + "/models/a16.alls");
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  // The error loadNetworkConfig throws for `text`.
  std::string configError(const std::string& text) {
    const std::string p = write("net.yaml", text);
    try {
      loadNetworkConfig(p, {});
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return "";
  }
  std::string dir_;
};

const char* kGood = "onnx: models/digits.onnx\ncalib: models/calib.npy\n";

TEST_F(BatchConfig, PathsAreRelativeToTheYamlFile) {
  const std::string p = write("net.yaml", std::string(kGood) +
                                              "script: models/a16.alls\ncalib_size: 16\n"
                                              "targets: [hailo8, Hailo-8L]\n");
  const NetworkJob j = loadNetworkConfig(p, {});
  EXPECT_EQ(j.opts.onnxPath, dir_ + "/models/digits.onnx");
  EXPECT_EQ(j.opts.calibPath, dir_ + "/models/calib.npy");
  EXPECT_EQ(j.opts.scriptPath, dir_ + "/models/a16.alls");
  EXPECT_EQ(j.opts.calibSize, 16);
  EXPECT_EQ(j.name, "digits");
  EXPECT_EQ(j.targets, (std::vector<std::string>{"hailo8", "hailo8l"}));
  EXPECT_TRUE(j.opts.scriptText.empty());
}

TEST_F(BatchConfig, EvalAndExpectSections) {
  fs::copy_file(kDigits + "test_x.npy", dir_ + "/models/test_x.npy");
  const std::string p = write(
      "net.yaml", std::string(kGood) +
                      "eval:\n  data: models/test_x.npy\n  size: 10\n  outputs:\n"
                      "    logits: {kind: scores, activation: softmax, axis: 1, threshold: 0.6, "
                      "top_k: 3}\n"
                      "    boxes: {kind: regress, where: logits}\n"
                      "expect:\n  min_f1: 0.9\n  max_abs_error: {boxes: 2.5}\n");
  const NetworkJob j = loadNetworkConfig(p, {});
  const eval::EvalSpec& s = j.evalSpec;
  EXPECT_EQ(s.data, dir_ + "/models/test_x.npy");
  EXPECT_EQ(s.size, 10);
  ASSERT_EQ(s.outputs.size(), 2u);
  EXPECT_EQ(s.outputs[0].kind, eval::Kind::scores);
  EXPECT_EQ(s.outputs[0].scores.activation, eval::Activation::softmax);
  EXPECT_EQ(s.outputs[0].scores.axis, 1);
  EXPECT_DOUBLE_EQ(s.outputs[0].scores.threshold, 0.6);
  EXPECT_EQ(s.outputs[0].scores.topK, 3);
  EXPECT_EQ(s.outputs[1].where, "logits");
  ASSERT_EQ(s.gates.size(), 2u);
  EXPECT_EQ(s.gates[0].metric, "f1");
  EXPECT_EQ(s.gates[0].output, "");
  EXPECT_EQ(s.gates[1].metric, "max_abs");
  EXPECT_EQ(s.gates[1].output, "boxes");
  EXPECT_EQ(s.gates[1].bound, eval::Bound::max);
  // The spec survives the JSON a manifest's child process reads.
  EXPECT_EQ(eval::specToJson(eval::specFromJson(eval::specToJson(s))), eval::specToJson(s));
}

TEST_F(BatchConfig, EvalErrorsNameTheLine) {
  const std::string e =
      configError(std::string(kGood) +
                  "eval:\n  data: models/nothing.npy\n  outputs:\n    logits: {kind: labels}\n"
                  "    boxes: {kind: regress, where: scores}\n"
                  "expect:\n  min_f2: 0.9\n");
  EXPECT_NE(e.find("net.yaml:6:20: eval.outputs.logits.kind: expected one of classes, scores, "
                   "map, regress, sequence, found 'labels'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("eval.outputs.boxes.where: 'scores' is not one of the outputs"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("unknown key 'min_f2' in expect (did you mean 'min_f1'?)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("eval.data: no such file or directory"), std::string::npos) << e;
}

TEST_F(BatchConfig, UnknownKeyNamesFileLineAndTheAcceptedKeys) {
  const std::string e = configError(std::string(kGood) + "calib_sise: 8\n");
  EXPECT_NE(e.find("net.yaml:3:1: unknown key 'calib_sise' in the network config (did you mean "
                   "'calib_size'?); accepted keys: name, description, onnx,"),
            std::string::npos)
      << e;
  const std::string pe =
      configError(std::string(kGood) + "preprocessing:\n  mean: 0\n  std: 1\n  order: bgr\n");
  EXPECT_NE(pe.find("net.yaml:6:3: unknown key 'order' in preprocessing"), std::string::npos) << pe;
}

TEST_F(BatchConfig, WrongTypesNameFileLineAndWhatWasFound) {
  const std::string e = configError(std::string(kGood) +
                                    "calib_size: lots\nrandom_calib: maybe\nstart_nodes: {a: 1}\n"
                                    "preprocessing:\n  resize: [128]\n");
  EXPECT_NE(e.find("net.yaml:3:13: calib_size: expected an integer >= 1, found 'lots'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("net.yaml:4:15: random_calib: expected true or false, found 'maybe'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("net.yaml:5:14: start_nodes: expected a string or a list of strings, found a "
                   "mapping"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("net.yaml:7:11: preprocessing.resize: expected [height, width]"),
            std::string::npos)
      << e;
}

TEST_F(BatchConfig, MissingFilesNameTheKeyAndThePath) {
  const std::string e =
      configError("onnx: models/nope.onnx\ncalib: models/none/\nscript: models/x.alls\n");
  EXPECT_NE(e.find("net.yaml:1:7: onnx: no such file: " + dir_ + "/models/nope.onnx"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("net.yaml:2:8: calib: no such file or directory"), std::string::npos) << e;
  EXPECT_NE(e.find("net.yaml:3:9: script: no such file"), std::string::npos) << e;
  const std::string none = configError("calib: models/calib.npy\n");
  EXPECT_NE(none.find("net.yaml: no onnx key"), std::string::npos) << none;
}

// Paths under .data/ are what a fetch script beside them makes (examples/real/fetch.sh): the error
// says to run it, when there is one.
TEST_F(BatchConfig, MissingFetchedDataNamesTheFetchScript) {
  const std::string text = "onnx: .data/models/net.onnx\ncalib: .data/calib/\n";
  std::string e = configError(text);
  EXPECT_NE(e.find("onnx: no such file: " + dir_ + "/.data/models/net.onnx\n"), std::string::npos)
      << e;
  EXPECT_EQ(e.find("fetch.sh"), std::string::npos) << e;
  write("fetch.sh", "#!/bin/sh\n");
  e = configError(text);
  const std::string hint = " (run " + dir_ + "/fetch.sh first: it fetches what .data/ holds)";
  EXPECT_NE(e.find("net.yaml:1:7: onnx: no such file: " + dir_ + "/.data/models/net.onnx" + hint),
            std::string::npos)
      << e;
  EXPECT_NE(
      e.find("net.yaml:2:8: calib: no such file or directory: " + dir_ + "/.data/calib/" + hint),
      std::string::npos)
      << e;
  // Elsewhere, no hint.
  e = configError("onnx: models/nope.onnx\ncalib: models/calib.npy\n");
  EXPECT_EQ(e.find("fetch.sh"), std::string::npos) << e;
}

TEST_F(BatchConfig, SyntaxErrorsAndBadTargetsHaveALine) {
  const std::string e = configError("onnx: [a, b\ncalib: x\n");
  EXPECT_NE(e.find("net.yaml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  const std::string t = configError(std::string(kGood) + "targets: [hailo8, hailo9]\n");
  EXPECT_NE(t.find("net.yaml:3:10: targets: unknown hardware architecture 'hailo9'"),
            std::string::npos)
      << t;
  const std::string twice = configError(std::string(kGood) + "onnx: models/digits.onnx\n");
  EXPECT_NE(twice.find("net.yaml:3:1: the network config: key 'onnx' is given twice"),
            std::string::npos)
      << twice;
}

TEST_F(BatchConfig, PreprocessingBecomesScriptLinesBeforeTheScript) {
  const std::string p = write("net.yaml", std::string(kGood) +
                                              "preprocessing:\n  mean: [123.675, 116.28, 103.53]\n"
                                              "  std: [58.395, 57.12, 57.375]\n");
  EXPECT_NE(loadNetworkConfig(p, {}).opts.scriptText.find(
                "normalization([123.675, 116.28, 103.53], [58.395, 57.12, 57.375])"),
            std::string::npos);
  // BGR: the channels are swapped on input and mean/std (given in the model's order) reversed.
  const std::string q = write("bgr.yaml", std::string(kGood) +
                                              "preprocessing:\n  channel_order: bgr\n"
                                              "  mean: [1, 2, 3]\n  std: [4, 5, 6]\n");
  const std::string text = loadNetworkConfig(q, {}).opts.scriptText;
  EXPECT_LT(text.find("input_conversion(rgb_to_bgr)"),
            text.find("normalization([3, 2, 1], [6, 5, 4])"))
      << text;
}

TEST_F(BatchConfig, MeanAndStdAreRefusedWhenTheScriptNormalizes) {
  write("models/norm.alls", "# published\nnormalization([127.5], [127.5])\n");
  const std::string e = configError(std::string(kGood) +
                                    "script: models/norm.alls\npreprocessing: {mean: 0, std: 1}\n");
  EXPECT_NE(e.find("net.yaml:4:23: preprocessing.mean/std: the script already normalizes the "
                   "input (" +
                   dir_ + "/models/norm.alls:2)"),
            std::string::npos)
      << e;
  EXPECT_NE(configError(std::string(kGood) + "preprocessing: {mean: 0}\n").find("give both"),
            std::string::npos);
}

TEST_F(BatchConfig, ManifestLayersDefaultsConfigAndInlineKeys) {
  write("models/net.yaml",
        "onnx: digits.onnx\ncalib: calib.npy\ncalib_size: 8\nreport_samples: 2\n");
  const std::string m = write("zoo.yaml",
                              "targets: [hailo8, hailo8l]\n"
                              "defaults:\n  calib_size: 32\n  verify_samples: 1\n"
                              "networks:\n"
                              "  - config: models/net.yaml\n"
                              "  - config: models/net.yaml\n    name: second\n    calib_size: 4\n"
                              "    targets: [hailo15h]\n"
                              "  - models/net.yaml\n    \n");
  // The third entry has the name of the first: an error of the manifest.
  try {
    loadManifest(m, {});
    FAIL() << "expected duplicate names";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zoo.yaml:11:5: network name 'digits' is used twice "
                                         "(also " +
                                         m + ":6:5)"),
              std::string::npos)
        << e.what();
  }
  write("zoo.yaml",
        "targets: [hailo8, hailo8l]\n"
        "defaults:\n  calib_size: 32\n  verify_samples: 1\n"
        "networks:\n"
        "  - config: models/net.yaml\n"
        "  - config: models/net.yaml\n    name: second\n    calib_size: 4\n"
        "    targets: [hailo15h]\n");
  const Manifest man = loadManifest(m, {});
  ASSERT_EQ(man.networks.size(), 2u);
  const NetworkJob& a = man.networks[0];
  const NetworkJob& b = man.networks[1];
  EXPECT_EQ(man.name, "zoo");
  EXPECT_EQ(a.name, "digits");
  EXPECT_EQ(a.opts.calibSize, 8);  // the config file's, over the defaults
  EXPECT_EQ(a.opts.verifySamples, 1);
  EXPECT_EQ(a.opts.reportSamples, 2);
  EXPECT_EQ(a.targets, (std::vector<std::string>{"hailo8", "hailo8l"}));
  EXPECT_EQ(a.opts.onnxPath, dir_ + "/models/digits.onnx");
  EXPECT_EQ(b.name, "second");
  EXPECT_EQ(b.index, 1);
  EXPECT_EQ(b.opts.calibSize, 4);  // inline, over the config file
  EXPECT_EQ(b.targets, (std::vector<std::string>{"hailo15h"}));
  // A bare path is short for `config: path`.
  write("zoo.yaml", "networks:\n  - models/net.yaml\n");
  const Manifest bare = loadManifest(m, {});
  EXPECT_TRUE(bare.networks.at(0).error.empty()) << bare.networks[0].error;
  EXPECT_EQ(bare.networks[0].opts.calibSize, 8);
  write("zoo.yaml",
        "targets: [hailo8, hailo8l]\n"
        "defaults:\n  calib_size: 32\n  verify_samples: 1\n"
        "networks:\n"
        "  - config: models/net.yaml\n"
        "  - config: models/net.yaml\n    name: second\n    calib_size: 4\n"
        "    targets: [hailo15h]\n");
  // Command-line options come last.
  NetworkSpec over;
  over.calibSize.assign(2, "command line");
  EXPECT_EQ(loadManifest(m, over).networks[1].opts.calibSize, 2);
}

TEST_F(BatchConfig, ANetworksErrorsStayWithItAndTheManifestsAbortTheRun) {
  const std::string m = write("zoo.yaml",
                              "defaults: {calib: models/calib.npy}\nnetworks:\n"
                              "  - {name: good, onnx: models/digits.onnx}\n"
                              "  - {name: bad, onnx: models/missing.onnx, colour: red}\n");
  const Manifest man = loadManifest(m, {});
  ASSERT_EQ(man.networks.size(), 2u);
  EXPECT_TRUE(man.networks[0].error.empty()) << man.networks[0].error;
  const std::string e = man.networks[1].error;
  EXPECT_NE(e.find("zoo.yaml:4:44: unknown key 'colour' in network entry"), std::string::npos) << e;
  EXPECT_NE(e.find("zoo.yaml:4:23: onnx: no such file"), std::string::npos) << e;
  auto manifestError = [&](const std::string& text) {
    write("zoo.yaml", text);
    try {
      loadManifest(m, {});
    } catch (const Error& ex) {
      return std::string(ex.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(manifestError("networks: []\n").find("zoo.yaml:1:11: networks: expected a list"),
            std::string::npos);
  EXPECT_NE(manifestError("network: []\n")
                .find("zoo.yaml:1:1: unknown key 'network' in the "
                      "manifest (did you mean 'networks'?)"),
            std::string::npos);
  EXPECT_NE(manifestError("defaults: {name: x}\nnetworks: [a.yaml]\n")
                .find("zoo.yaml:1:12: unknown key 'name' in defaults"),
            std::string::npos);
  EXPECT_NE(manifestError("targets: [hailo8]\ndefaults: {targets: [hailo8l]}\nnetworks: [a]\n")
                .find("targets are set twice"),
            std::string::npos);
}

TEST(BatchShard, NetworkKGoesToShardKModNPlusOne) {
  EXPECT_EQ(parseShard("2/3"), std::make_pair(2, 3));
  for (const char* bad : {"0/2", "3/2", "1", "a/b", "1/0", "1/2x"})
    EXPECT_THROW(parseShard(bad), Error) << bad;
  std::vector<NetworkJob> nets(5);
  for (int k = 0; k < 5; ++k) nets[k].index = k;
  std::vector<int> got;
  for (const auto& j : shardOf(nets, 2, 2)) got.push_back(j.index);
  EXPECT_EQ(got, (std::vector<int>{1, 3}));
  EXPECT_EQ(shardOf(nets, 1, 2).size(), 3u);
}

}  // namespace
}  // namespace kiln::batch
