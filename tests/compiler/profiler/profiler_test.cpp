// kiln profiler and kiln visualizer: the dot graph, the embedded data, and the commands' errors.
// The page in a browser is checked by check_report.sh (CTest profiler_report).
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "compiler/profiler/colours.h"
#include "compiler/profiler/graph_dot.h"
#include "compiler/profiler/model_json.h"
#include "compiler/profiler/report_html.h"
#include "tests/support/cli_test_util.h"
#include "tests/support/test_util.h"

namespace kiln {
namespace {

using test::importText;
using test::runKiln;
using test::tensorLiteral;
using test::testTmp;

std::string twoBranchText() {
  return std::string("<ir_version: 8, opset_import: [\"\" : 17]>\n") +
         "g (float[1,3,8,8] x) => (float[1,4,8,8] y) {\n"
         "  w1 = Constant <value = " +
         tensorLiteral({4, 3, 3, 3}, 1) +
         "> ()\n"
         "  w2 = Constant <value = " +
         tensorLiteral({4, 3, 1, 1}, 2) +
         "> ()\n"
         "  a = Conv <pads = [1, 1, 1, 1]> (x, w1)\n"
         "  b = Conv (x, w2)\n"
         "  y = Add (a, b)\n"
         "}\n";
}

int count(const std::string& text, const std::string& re) {
  const std::regex r(re);
  return int(std::distance(std::sregex_iterator(text.begin(), text.end(), r), {}));
}

TEST(Profiler, DotHasOneNodePerLayerAndOneEdgePerInput) {
  Graph g = importText(twoBranchText());
  g.name = "net \"quoted\" \\ name";
  const std::string dot = profiler::graphDot(g, {});
  size_t inputs = 0;
  for (const Layer& l : g.layers) inputs += l.inputs.size();
  EXPECT_EQ(count(dot, "class=\"layer\""), int(g.layers.size()));
  EXPECT_EQ(count(dot, " -> "), int(inputs));
  EXPECT_NE(dot.find("digraph \"net \\\"quoted\\\" \\\\ name\""), std::string::npos) << dot;
  for (size_t i = 0; i < g.layers.size(); ++i)
    EXPECT_NE(dot.find("id=\"" + profiler::layerNodeId(i) + "\""), std::string::npos);
}

TEST(Profiler, DotColoursBySnrBands) {
  Graph g = importText(twoBranchText());
  profiler::DotOptions opts;
  opts.colourBy = profiler::ColourBy::Snr;
  opts.snrDb[g.layers[1].name] = 5.0;   // flagged band
  opts.snrDb[g.layers[2].name] = 45.0;  // best band
  const std::string dot = profiler::graphDot(g, opts);
  EXPECT_NE(dot.find(profiler::snrColour(5.0)), std::string::npos);
  EXPECT_NE(dot.find(profiler::snrColour(45.0)), std::string::npos);
  EXPECT_NE(profiler::snrColour(5.0), profiler::snrColour(45.0));
  EXPECT_NE(dot.find("SNR 5.0 dB"), std::string::npos);
}

TEST(Profiler, ModelJsonNamesEachLayersProducers) {
  const Graph g = importText(twoBranchText());
  Archive a;
  a.graph = g;
  const nlohmann::json j = profiler::modelJson(a);
  ASSERT_EQ(j.at("layers").size(), g.layers.size());
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const auto& ins = j.at("layers")[i].at("inputs");
    ASSERT_EQ(ins.size(), g.layers[i].inputs.size());
    for (size_t k = 0; k < ins.size(); ++k)
      EXPECT_EQ(ins[k], g.layers[size_t(g.layers[i].inputs[k].layer)].name);
  }
}

TEST(Profiler, EmbeddedJsonCannotCloseItsScriptElement) {
  const nlohmann::json data = {{"name", "</script><script>alert(1)</script>"}};
  const std::string text = profiler::embeddedJson(data);
  EXPECT_EQ(text.find("</"), std::string::npos) << text;
  EXPECT_EQ(nlohmann::json::parse(text), data);
}

// ---- the commands ----

class ProfilerCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Per process: CTest runs each test of the suite as its own process, in parallel.
    dir_ = ::testing::TempDir() + "/profiler_cli_" + std::to_string(::getpid());
    // Once for the suite: the digits CNN parsed, optimized and compiled.
    const std::string cmd = std::string(KILN_BINARY) + " compile " + test::kDigitsDir +
                            "digits_cnn.onnx --calib-set-path " + test::kDigitsDir +
                            "calib.npy --output-dir " + dir_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static std::string dir_;
  static std::string kar() { return dir_ + "/digits_cnn_optimized.kar"; }
};
std::string ProfilerCli::dir_;

TEST_F(ProfilerCli, WritesOnePageWithTheDataOfTheArchive) {
  ASSERT_TRUE(test::exists(kar()));
  const std::string out = testTmp("profiler", "report.html");
  const auto r =
      runKiln("profiler", "profiler " + kar() + " --kef " + dir_ + "/digits_cnn.kef -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string html = test::slurp(out);
  EXPECT_EQ(count(html, "<g id=\"layer_[0-9]+\" class=\"node layer\""), 9);
  for (const char* view : {"model", "optimization", "compilation", "runtime", "noise"})
    EXPECT_NE(html.find("<section id=\"" + std::string(view) + "\""), std::string::npos) << view;
  EXPECT_NE(html.find("activation arena"), std::string::npos);
  // Same inputs, same bytes.
  const std::string again = testTmp("profiler", "again.html");
  ASSERT_EQ(
      runKiln("profiler", "profiler " + kar() + " --kef " + dir_ + "/digits_cnn.kef -o " + again)
          .status,
      0);
  EXPECT_EQ(test::slurp(again), html);
}

TEST_F(ProfilerCli, RejectsInputsThatAreNotWhatTheOptionExpects) {
  const std::string out = testTmp("profiler", "bad.html");
  // The noise report is JSON, but not a runtime profile.
  const std::string report = kar() + ".report.json";
  auto r = runKiln("profiler", "profiler " + kar() + " --runtime-profile " + report + " -o " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find(report), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kilnrt run"), std::string::npos) << r.err;
  r = runKiln("profiler", "profiler " + kar() + " --analysis " + report + " -o " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("kiln-noise-analysis"), std::string::npos) << r.err;
  EXPECT_FALSE(test::exists(out));
}

TEST_F(ProfilerCli, MarksTheScriptLinesThatAreNotApplied) {
  const std::string script = testTmp("profiler", "na.alls");
  std::ofstream(script) << "quantization_param(conv2, precision_mode=a16_w16)\n"
                           "post_quantization_optimization(finetune, policy=enabled)\n";
  const std::string opt = testTmp("profiler", "na.kar"), out = testTmp("profiler", "na.html");
  ASSERT_EQ(runKiln("profiler", "optimize " + dir_ + "/digits_cnn.kar --calib-set-path " +
                                    test::kDigitsDir + "calib.npy --model-script " + script +
                                    " --output-har-path " + opt)
                .status,
            0);
  const auto r = runKiln("profiler", "profiler " + opt + " -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string html = test::slurp(out);
  EXPECT_NE(html.find("<span class=\"line\" id=\"script-1\">"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"line na\" id=\"script-2\" title=\""), std::string::npos);
  // The card's "set by" names the script line: conv2's precision source.
  EXPECT_NE(html.find("na.alls:1"), std::string::npos);
}

TEST_F(ProfilerCli, FloatArchiveHasModelViewOnly) {
  const std::string out = testTmp("profiler", "float.html");
  const auto r = runKiln("profiler", "profiler " + dir_ + "/digits_cnn.kar -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string html = test::slurp(out);
  EXPECT_NE(html.find("This archive is not quantized."), std::string::npos);
  EXPECT_EQ(count(html, "<g id=\"layer_[0-9]+\" class=\"node layer\""), 9);
}

TEST_F(ProfilerCli, VisualizerWritesDotAndRefusesSnrOfAFloatArchive) {
  const std::string out = testTmp("visualizer", "g.dot");
  auto r = runKiln("visualizer", "visualizer " + kar() + " -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count(test::slurp(out), "class=\"layer\""), 9);
  r = runKiln("visualizer", "visualizer " + dir_ + "/digits_cnn.kar --color-by snr -o " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("optimized archive"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kiln
