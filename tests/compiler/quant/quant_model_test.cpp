// Quantization of the trained digits CNN on its labelled test set: a8_w8 within 1 point of
// float, a16_w16 within 0.2 points, and preparation is deterministic.
#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/ir/verifier.h"
#include "compiler/quant/prepare.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const std::string kDir = std::string(KILN_SOURCE_DIR) + "/examples/digits/";

std::vector<FloatBuffer> samples(const std::string& file) {
  const npy::Array a = npy::load(kDir + file);
  const std::vector<float> v = a.toFloat();
  const int64_t per = 64;
  std::vector<FloatBuffer> out;
  for (int64_t i = 0; i < a.shape[0]; ++i)
    out.push_back(
        {{1, 1, 8, 8}, std::vector<float>(v.begin() + i * per, v.begin() + (i + 1) * per)});
  return out;
}

Graph quantized(const std::string& mode) {
  onnx::ImportOptions o;
  Graph g = onnx::importFile(kDir + "digits_cnn.onnx", o);
  std::vector<std::vector<FloatBuffer>> calib;
  for (auto& s : samples("calib.npy")) calib.push_back({s});
  const quant::CalibStats stats = quant::collectStats(g, calib);
  quant::PrepareOptions opts;
  quant::LayerPrecision p;
  EXPECT_TRUE(quant::parsePrecisionMode(mode, p.mode));
  for (size_t i = 0; i < g.layers.size(); ++i) opts.precision[int(i)] = p;
  quant::prepareQuantization(g, stats, opts);
  verify(g);
  return g;
}

double accuracy(const Graph& g, bool quantizedRun) {
  const auto xs = samples("test_x.npy");
  const npy::Array y = npy::load(kDir + "test_y.npy");
  const auto labels = y.toFloat();
  int correct = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<float> logits;
    if (quantizedRun) {
      const IntBuffer q = runQuantized(g, {xs[i]})[0];
      logits = dequantize(q, g.at(g.outputLayers()[0]).outputQuant[0]).data;
    } else {
      logits = runFloat(g, {xs[i]})[0].data;
    }
    const int best = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
    correct += best == int(labels[i]);
  }
  return 100.0 * correct / double(xs.size());
}

TEST(QuantDigits, A8W8WithinOnePointOfFloat) {
  const Graph g = quantized("a8_w8");
  const double fl = accuracy(g, false), q = accuracy(g, true);
  std::cout << "digits float " << fl << " %, a8_w8 " << q << " %\n";
  EXPECT_GE(q, fl - 1.0);
}

TEST(QuantDigits, A16W16WithinPointTwoOfFloat) {
  const Graph g = quantized("a16_w16");
  const double fl = accuracy(g, false), q = accuracy(g, true);
  std::cout << "digits float " << fl << " %, a16_w16 " << q << " %\n";
  EXPECT_GE(q, fl - 0.2);
}

TEST(QuantDigits, PreparationIsDeterministicAndSurvivesTheArchive) {
  Archive a, b;
  a.graph = quantized("a8_w8");
  b.graph = quantized("a8_w8");
  EXPECT_EQ(serializeArchive(a), serializeArchive(b));
  const std::string p = ::testing::TempDir() + "/digits_q.kar";
  writeArchive(p, a);
  const Archive r = readArchive(p);
  const auto xs = samples("test_x.npy");
  EXPECT_EQ(runQuantized(a.graph, {xs[0]})[0].data, runQuantized(r.graph, {xs[0]})[0].data);
}

}  // namespace
}  // namespace kiln::test
