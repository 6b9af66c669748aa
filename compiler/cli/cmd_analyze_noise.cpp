// kiln analyze-noise OPT.kar --data-path DATA: the quantization noise of an optimized archive on
// held-out data, per output and per layer (simple), and per tensor with ranked 16-bit suggestions
// (advanced). The analysis is compiler/noise/analyze_archive.h; this prints and writes it.
#include <fmt/core.h>

#include "common/file_io.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/console.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/noise/analyze_archive.h"

namespace kiln::cli {

namespace {

struct AnalyzeArgs {
  std::string archive, data, mode = "simple", json, hwArch = "hailo8";
  int samples = 16;
  int top = 10;
};

void runAnalyze(const AnalyzeArgs& args) {
  if (args.mode != "simple" && args.mode != "advanced")
    throw Error("--mode expects simple or advanced, got '" + args.mode + "'");
  const Archive a = readArchive(args.archive);
  noise::AnalyzeOptions o;
  o.mode = args.mode;
  o.data.path = args.data;
  o.data.size = args.samples;
  o.hwArch = args.hwArch;
  o.top = args.top;
  o.warn = [](const std::string& w) { fmt::print(stderr, "{}\n", batch::warningLine(w)); };
  o.info = [](const std::string& s) { fmt::print("{}\n", s); };
  o.progress = batch::progressPrinter(
      args.mode == "advanced" ? "noise analysis (advanced)" : "noise analysis",
      batch::stderrIsTerminal());
  const noise::AnalyzeResult r = noise::analyzeArchive(a, args.archive, o);
  fmt::print("{}", r.text);
  if (!args.json.empty()) {
    const std::string text = jsonText(r.json, 2) + "\n";
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
