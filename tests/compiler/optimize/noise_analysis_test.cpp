// The advanced noise analysis (compiler/optimize/noise_analysis.h) against brute force on the
// shipped digits CNN: for every candidate tensor, kiln optimize is run again with the line that
// lifts it to 16 bits and the whole quantized network is run on the held-out samples. The
// incremental estimate must rank the candidates as the real re-quantizations do.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "calib/calib_set.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/onnx/importer.h"
#include "compiler/optimize/noise_analysis.h"
#include "compiler/optimize/optimizer.h"
#include "tests/support/cli_test_util.h"

namespace kiln::test {
namespace {

using optimize::SnrAccumulator;

std::vector<std::vector<FloatBuffer>> heldOut(const Graph& g, size_t n) {
  const int id = g.inputLayers().at(0);
  const Shape shape = g.at(id).attrInts("user_shape");
  const calib::CalibSet set = calib::loadCalibSet(kDigitsDir + "test_x.npy", {{"x", shape}}, n);
  std::vector<std::vector<FloatBuffer>> out;
  for (const auto& s : set.samples) out.push_back({{shape, s[0]}});
  return out;
}

Archive optimizeWith(const Archive& parsed, const std::string& script) {
  optimize::OptimizeOptions o;
  o.calibPath = kDigitsDir + "calib.npy";
  o.calibSizeOverride = 32;
  o.reportSamples = 1;
  if (!script.empty()) {
    o.scriptPath = testTmp("noise", "lift.alls");
    std::ofstream(o.scriptPath) << script << "\n";
  }
  return optimize::optimize(parsed, o);
}

// Output SNR of the whole quantized network (first output) on the samples.
double outputSnr(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples) {
  SnrAccumulator acc;
  const int o = g.outputLayers().at(0);
  for (const auto& s : samples) {
    const auto ref = runFloat(g, s);
    const auto q = runQuantized(g, s);
    acc.add(ref.at(0).data, dequantize(q.at(0), g.at(o).outputQuant[0]).data);
  }
  return acc.db();
}

TEST(NoiseAnalysis, RankingMatchesBruteForceRequantization) {
  Archive parsed;
  parsed.graph = onnx::importFile(kDigitsDir + "digits_cnn.onnx", {});
  parsed.stages = {"parse"};
  const Archive base = optimizeWith(parsed, "");
  const auto samples = heldOut(base.graph, 24);
  optimize::NoiseAnalysisOptions o;
  o.advanced = true;
  const optimize::NoiseAnalysis r = optimize::analyzeNoise(base.graph, samples, o);
  ASSERT_GE(r.candidates.size(), 4u);
  const double baseSnr = r.outputSnr.at(0).db();
  EXPECT_NEAR(baseSnr, outputSnr(base.graph, samples), 1e-9);

  struct Row {
    std::string name;
    double estimate, real;
  };
  std::vector<Row> rows;
  for (size_t c = 0; c < r.candidates.size(); ++c) {
    const std::string name = base.graph.at(r.candidates[c]).name;
    const Archive lifted =
        optimizeWith(parsed, "quantization_param(" + name + ", precision_mode=a8_w8_a16)");
    rows.push_back(
        {name, r.lifted16[c][0].db() - baseSnr, outputSnr(lifted.graph, samples) - baseSnr});
    // Quantizing one tensor alone costs less than quantizing all of them.
    EXPECT_GT(r.quantizeOnly[c][0].db(), baseSnr) << name;
  }
  std::string table;
  for (const Row& w : rows)
    table += w.name + ": estimate " + std::to_string(w.estimate) + " dB, re-quantized " +
             std::to_string(w.real) + " dB\n";
  // The best candidate is the same, and every pair whose real gains differ by more than 0.5 dB
  // is ordered the same way.
  auto best = [&](auto field) {
    return std::max_element(rows.begin(), rows.end(),
                            [&](const Row& a, const Row& b) { return field(a) < field(b); })
        ->name;
  };
  EXPECT_EQ(best([](const Row& w) { return w.estimate; }),
            best([](const Row& w) { return w.real; }))
      << table;
  for (const Row& a : rows) {
    for (const Row& b : rows) {
      if (a.real > b.real + 0.5) {
        EXPECT_GT(a.estimate, b.estimate) << a.name << " vs " << b.name << "\n" << table;
      }
    }
  }
  std::cout << table;
}

}  // namespace
}  // namespace kiln::test
