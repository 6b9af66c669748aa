// kiln analyze-noise OPT.kar --data-path DATA: the quantization noise of an optimized archive on
// held-out data, per output and per layer (simple), and per tensor with ranked 16-bit suggestions
// (advanced; compiler/optimize/noise_analysis.h says how).
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "calib/calib_set.h"
#include "common/file_io.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/console.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/noise_suggestions.h"
#include "compiler/cli/options.h"
#include "compiler/optimize/noise_analysis.h"

namespace kiln::cli {

namespace {

struct AnalyzeArgs {
  std::string archive, data, mode = "simple", json, hwArch = "hailo8";
  int samples = 16;
  int top = 10;
};

double round2(double v) {
  return std::round(v * 100) / 100;
}

std::vector<std::vector<FloatBuffer>> loadData(const Graph& g, const std::string& path, int count) {
  std::vector<calib::InputSpec> specs;
  for (int id : g.inputLayers())
    specs.push_back({g.at(id).attrString("onnx_name"), g.at(id).attrInts("user_shape")});
  const calib::CalibSet set = calib::loadCalibSet(path, specs, size_t(count));
  for (const auto& w : set.warnings) fmt::print(stderr, "{}\n", batch::warningLine(w));
  fmt::print("{}\n", set.description);
  const auto ids = g.inputLayers();
  std::vector<std::vector<FloatBuffer>> out;
  for (const auto& sample : set.samples) {
    std::vector<FloatBuffer> bufs;
    for (size_t k = 0; k < ids.size(); ++k)
      bufs.push_back({g.at(ids[k]).attrInts("user_shape"), sample[k]});
    out.push_back(std::move(bufs));
  }
  return out;
}

void runAnalyze(const AnalyzeArgs& args) {
  if (args.mode != "simple" && args.mode != "advanced")
    throw Error("--mode expects simple or advanced, got '" + args.mode + "'");
  const Archive a = readArchive(args.archive);
  if (std::find(a.stages.begin(), a.stages.end(), "optimize") == a.stages.end())
    throw Error(args.archive +
                ": not an optimized archive; run kiln optimize first (analyze-noise measures the "
                "quantized network against its float one)");
  const Graph& g = a.graph;
  const auto samples = loadData(g, args.data, args.samples);
  const bool advanced = args.mode == "advanced";
  const bool terminal = batch::stderrIsTerminal();
  optimize::NoiseAnalysisOptions o;
  o.advanced = advanced;
  o.progress =
      batch::progressPrinter(advanced ? "noise analysis (advanced)" : "noise analysis", terminal);
  const optimize::NoiseAnalysis r = optimize::analyzeNoise(g, samples, o);

  nlohmann::json outputs = nlohmann::json::array(), layers = nlohmann::json::array();
  std::vector<std::string> outNames;
  for (int id : r.outputs) outNames.push_back(g.at(id).attrString("onnx_name"));
  fmt::print("Noise on {} held-out samples from {} (SNR vs float, all layers quantized):\n",
             r.samples, args.data);
  for (size_t k = 0; k < r.outputs.size(); ++k) {
    outputs.push_back({{"name", outNames[k]}, {"snr_db", round2(r.outputSnr[k].db())}});
    fmt::print("  output {:<24} {:7.2f} dB\n", outNames[k], r.outputSnr[k].db());
  }
  std::vector<int> candIndex(g.layers.size(), -1);
  for (size_t c = 0; c < r.candidates.size(); ++c) candIndex[size_t(r.candidates[c])] = int(c);
  std::vector<std::pair<double, std::string>> worst;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::InputLayer || l.type == LayerType::OutputLayer) continue;
    nlohmann::json lj = {{"name", l.name},
                         {"type", typeWord(l.type)},
                         {"precision", l.precision},
                         {"bits", l.outputQuant.at(0).bits},
                         {"snr_db", round2(r.layerSnr[i].db())}};
    if (candIndex[i] >= 0) {
      nlohmann::json effects = nlohmann::json::array();
      const size_t c = size_t(candIndex[i]);
      for (size_t k = 0; k < r.outputs.size(); ++k)
        effects.push_back(
            {{"output", outNames[k]},
             {"quantize_only_db", round2(r.quantizeOnly[c][k].db())},
             {"lift16_gain_db", round2(r.lifted16[c][k].db() - r.outputSnr[k].db())}});
      lj["effects"] = effects;
    }
    worst.push_back({r.layerSnr[i].db(), l.name});
    layers.push_back(lj);
  }
  std::stable_sort(worst.begin(), worst.end());
  fmt::print("  lowest layers:");
  for (size_t i = 0; i < worst.size() && i < 5; ++i)
    fmt::print("{} {} ({:.1f} dB)", i ? "," : "", worst[i].second, worst[i].first);
  fmt::print("\n");

  nlohmann::json suggestions = nlohmann::json::array();
  if (advanced) {
    const auto list = rankSuggestions(g, r, hwarch::findArch(args.hwArch), size_t(args.top));
    fmt::print("{}", suggestionTable(list, args.hwArch));
    for (const auto& s : list) suggestions.push_back(s.toJson());
  } else {
    fmt::print(
        "  (--mode advanced: the effect of each tensor on each output, and which to lift to "
        "16 bits)\n");
  }
  if (!args.json.empty()) {
    const nlohmann::json j = {{"kind", "kiln-noise-analysis"},
                              {"version", 1},
                              {"mode", args.mode},
                              {"archive", args.archive},
                              {"hw_arch", args.hwArch},
                              {"data", {{"path", args.data}, {"samples", r.samples}}},
                              {"outputs", outputs},
                              {"layers", layers},
                              {"suggestions", suggestions}};
    const std::string text = jsonText(j, 2) + "\n";
    files::makeParentDirs(args.json);
    files::writeFileAtomic(args.json, std::vector<uint8_t>(text.begin(), text.end()));
    fmt::print("Wrote {}\n", args.json);
  }
}

}  // namespace

void addAnalyzeNoiseCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "analyze-noise",
      "Measure an optimized archive's quantization noise on held-out data: per output and layer "
      "(simple), and which tensors to lift to 16 bits (advanced)");
  auto args = std::make_shared<AnalyzeArgs>();
  cmd->add_option("archive", args->archive, "The optimized .kar (output of kiln optimize)")
      ->required();
  cmd->add_option("--data-path", args->data,
                  "Held-out data, NOT the calibration set: a directory of JPEG/PNG images or .npy "
                  "files, one .npy with N samples, or an .npz (as --calib-set-path)")
      ->required();
  cmd->add_option("--mode", args->mode,
                  "simple: SNR of every output and layer. advanced: also, for every tensor, the "
                  "SNR of each output with only it quantized, and the gain of lifting only it to "
                  "16 bits; ranked suggestions (default simple)")
      ->check(CLI::IsMember({"simple", "advanced"}));
  cmd->add_option("--data-size", args->samples, "Samples used from the data (default 16)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_option("--json", args->json, "Also write the analysis as JSON to this file")
      ->check(nonEmptyPath());
  cmd->add_option("--hw-arch", args->hwArch,
                  "Target whose resource plan prices the suggestions' FPS (default hailo8)")
      ->check(CLI::IsMember(hwarch::archNames()));
  cmd->add_option("--top", args->top, "Suggestions listed (default 10)")->check(intIn(1, 1000));
  cmd->callback([args]() { runAnalyze(*args); });
}

}  // namespace kiln::cli
