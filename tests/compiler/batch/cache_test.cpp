// The compile cache key, the pre-processing a config adds (checked in float against the original
// model), and the JUnit report's escaping.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/batch/cache.h"
#include "compiler/batch/report.h"
#include "compiler/emulator/float_executor.h"
#include "tests/support/test_util.h"

namespace kiln::batch {
namespace {

namespace fs = std::filesystem;
const std::string kDigits = std::string(KILN_SOURCE_DIR) + "/examples/digits/";

std::string freshDir(const std::string& what) {
  const std::string d =
      (fs::path(::testing::TempDir()) / ("batch_cache_" + what)).lexically_normal().string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

NetworkJob digitsJob(const std::string& dir) {
  fs::copy_file(kDigits + "digits_cnn.onnx", dir + "/d.onnx");
  // A directory of one-sample .npy files.
  fs::create_directories(dir + "/calib");
  const auto all = npy::load(kDigits + "calib.npy").toFloat();
  for (int k = 0; k < 8; ++k)
    npy::save(dir + "/calib/s" + std::to_string(k) + ".npy",
              npy::fromFloat({all.begin() + k * 64, all.begin() + (k + 1) * 64}, {1, 1, 8, 8}));
  std::ofstream(dir + "/net.yaml") << "onnx: d.onnx\ncalib: calib\n";
  return loadNetworkConfig(dir + "/net.yaml", {});
}

TEST(BatchCache, KeyFollowsContentsNotPaths) {
  const std::string d = freshDir("key");
  NetworkJob job = digitsJob(d);
  auto key = [&](const NetworkJob& j) {
    FileDigests fd;  // fresh: files are read again
    return cacheKey(j, "kiln-x", fd).key;
  };
  const std::string k0 = key(job);
  EXPECT_EQ(k0, key(job));
  // The same bytes elsewhere, and a description: the same key.
  fs::create_directories(d + "/moved");
  fs::copy_file(d + "/d.onnx", d + "/moved/d.onnx");
  NetworkJob moved = job;
  moved.opts.onnxPath = d + "/moved/d.onnx";
  moved.origin = "elsewhere.yaml";
  EXPECT_EQ(key(moved), k0);
  // Options, targets, the Kiln build, a calibration file: another key.
  NetworkJob o = job;
  o.opts.calibSize = 9;
  EXPECT_NE(key(o), k0);
  o = job;
  o.targets.push_back("hailo8l");
  EXPECT_NE(key(o), k0);
  FileDigests fd;
  EXPECT_NE(cacheKey(job, "kiln-y", fd).key, k0);
  std::ofstream(d + "/calib/b.npy") << "x";
  EXPECT_NE(key(job), k0);
  fs::remove(d + "/calib/b.npy");
  std::ofstream(d + "/calib/.hidden") << "x";  // the loader skips hidden files, so does the key
  EXPECT_EQ(key(job), k0);
}

TEST(BatchCache, ResultsAreReusedOnlyWhenKeyAndExecutablesMatch) {
  const std::string d = freshDir("reuse");
  NetworkJob job = digitsJob(d);
  job.targets = {"hailo8", "hailo8l"};
  const auto results = runNetwork(
      job, d + "/out", true, [](const std::string&) {}, [](const std::string&) {});
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) ASSERT_EQ(r.status, "ok") << r.error;
  EXPECT_EQ(results[1].kef, "hailo8l/d.kef");
  const std::string text = resultToJson(job, "k1", {}, results).dump();
  std::ofstream(d + "/out/result.json") << text;
  const auto hit = cachedResults(d + "/out", "k1");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ((*hit)[0].status, "cached");
  EXPECT_EQ((*hit)[1].summary["hw_arch"], "hailo8l");
  EXPECT_FALSE(cachedResults(d + "/out", "k2").has_value());
  std::ofstream(d + "/out/hailo8/d.kef", std::ios::app) << "tampered";
  EXPECT_FALSE(cachedResults(d + "/out", "k1").has_value());
}

// A model trained on BGR with its own mean/std: with channel_order bgr and mean/std in the
// model's order, the compiled network takes raw RGB pixels and computes the same function.
TEST(BatchPreprocessing, BgrAndMeanStdKeepTheModelsFunction) {
  const std::string d = freshDir("bgr");
  const std::string text =
      std::string("<ir_version: 8, opset_import: [\"\" : 13]>\n") +
      "g (float[1,3,4,4] x) => (float[1,2,4,4] y) {\n  w = Constant <value = " +
      test::tensorLiteral({2, 3, 1, 1}, 7) + "> ()\n  y = Conv (x, w)\n}";
  std::string bytes;
  test::parseText(text).SerializeToString(&bytes);
  std::ofstream(d + "/m.onnx", std::ios::binary) << bytes;
  std::ofstream(d + "/net.yaml") << "onnx: m.onnx\nrandom_calib: true\nverify_samples: 1\n"
                                    "preprocessing:\n  channel_order: bgr\n"
                                    "  mean: [10, 20, 30]\n  std: [2, 4, 8]\n  resize: [4, 4]\n";
  const NetworkJob job = loadNetworkConfig(d + "/net.yaml", {});
  const auto r = runNetwork(
      job, d + "/out", false, [](const std::string&) {}, [](const std::string&) {});
  ASSERT_EQ(r.at(0).status, "ok") << r.at(0).error;
  const Graph original = readArchive(d + "/out/m.kar").graph;
  const Graph compiled = readArchive(d + "/out/m_optimized.kar").graph;
  const FloatBuffer rgb = test::randomInput({1, 3, 4, 4}, 3, 0, 255);
  FloatBuffer bgr = rgb;  // what the model saw in training: BGR, normalized
  const float mean[3] = {10, 20, 30}, stdv[3] = {2, 4, 8};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 16; ++i)
      bgr.data[c * 16 + i] = (rgb.data[(2 - c) * 16 + i] - mean[c]) / stdv[c];
  const auto want = runFloat(original, {bgr})[0].data;
  const auto got = runFloat(compiled, {rgb})[0].data;
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4f) << i;

  // resize must match the network's input.
  std::ofstream(d + "/net.yaml", std::ios::app) << "name: other\n";
  NetworkJob wrong = loadNetworkConfig(d + "/net.yaml", {});
  wrong.imageSize = {8, 8};
  const auto w = runNetwork(
      wrong, d + "/out2", false, [](const std::string&) {}, [](const std::string&) {});
  EXPECT_NE(w.at(0).error.find("net.yaml:8:11: preprocessing.resize [8, 8] does not match input "
                               "'x' of shape [1, 3, 4, 4]"),
            std::string::npos)
      << w.at(0).error;
}

TEST(BatchReport, JunitXmlEscapesAndCounts) {
  Manifest m;
  m.path = "z.yaml";
  m.name = "z<&>";
  NetworkJob a;
  a.name = "net\"1";
  a.dir = "net_1";
  a.targets = {"hailo8"};
  m.networks = {a};
  TargetResult t;
  t.target = "hailo8";
  t.status = "failed";
  t.error = std::string("bad <layer> & 'quote'\n\x01 line two \xff");
  RunInfo run;
  run.started = "2024-01-02T03:04:05";
  run.host = "h";
  const auto report = buildReport(m, {{&m.networks[0], {t}, "tail"}}, run);
  EXPECT_EQ(report["summary"]["failed"], 1);
  const std::string x = junitXml(report);
  EXPECT_NE(x.find("<testsuites name=\"kiln compile z&lt;&amp;&gt;\" tests=\"1\" failures=\"1\" "
                   "errors=\"0\" skipped=\"0\""),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<testcase classname=\"net&quot;1\" name=\"hailo8\" time=\"0.000\">"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<failure message=\"bad &lt;layer&gt; &amp; &apos;quote&apos;\" "
                   "type=\"kiln.compile\">"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("? line two ?"), std::string::npos) << x;
  EXPECT_NE(x.find("timestamp=\"2024-01-02T03:04:05\" hostname=\"h\""), std::string::npos);
}

}  // namespace
}  // namespace kiln::batch
