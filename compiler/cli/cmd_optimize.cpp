// kiln optimize FILE.kar: model script, calibration and quantization -> an optimized archive.
#include <fmt/core.h>

#include "common/file_io.h"
#include "common/npy.h"
#include "common/output_dir.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/console.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/noise/mixed_precision.h"
#include "compiler/optimize/optimizer.h"

namespace kiln::cli {

namespace {

struct OptimizeArgs {
  std::string archive, calib, script, output;
  bool random = false, strict = false;
  int calibSize = 0;
  int reportSamples = 16;
  // --target-snr: automatic mixed precision (compiler/noise/mixed_precision.h).
  double targetSnr = 0;
  bool targetSet = false;
  double max16 = 0.25;
  std::string dataPath, hwArch = "hailo8";
  int dataSize = 16;
};

std::string defaultOutput(const std::string& in) {
  std::string stem = in;
  if (stem.size() > 4 && stem.substr(stem.size() - 4) == ".kar") stem.resize(stem.size() - 4);
  return stem + "_optimized.kar";
}

// The archive and its report beside it, as one set: the old report goes first, so that a kill
// between the two renames never leaves a new archive beside the report of the old one (the
// report is also inside the archive: optimize/report.json).
void writeOptimized(const std::string& path, const std::string& reportPath, const Archive& out) {
  const size_t slash = path.find_last_of('/');
  const files::DirLock lock(slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : path.substr(0, slash),
                            printNote);
  files::removeFile(reportPath);
  writeArchive(path, out);
  files::writeFileAtomic(reportPath, out.extra.at("optimize/report.json"));
}

void runOptimize(const OptimizeArgs& args) {
  if (!args.targetSet && (!args.dataPath.empty()))
    throw Error("--data-path is the held-out data of --target-snr: give --target-snr DB too");
  if (args.targetSet && args.dataPath.empty())
    throw Error(
        "--target-snr needs held-out data to measure on: --data-path DIR (not the calibration "
        "set)");
  if (args.calib.empty() == !args.random)
    throw Error("give exactly one of --calib-set-path PATH and --use-random-calib-set");
  optimize::OptimizeOptions o;
  o.calibPath = args.calib;
  o.randomCalib = args.random;
  o.scriptPath = args.script;
  o.strict = args.strict;
  o.calibSizeOverride = args.calibSize;
  o.reportSamples = args.reportSamples;
  o.warn = [](const std::string& w) { fmt::print(stderr, "{}\n", batch::warningLine(w)); };
  o.info = [](const std::string& s) { fmt::print("{}\n", s); };
  // On a terminal a line rewritten in place; in a pipe (CI logs) plain lines every 10 % or 10 s.
  // The report runs the float and the integer network per sample: the slow part on big models.
  const bool terminal = batch::stderrIsTerminal();
  o.progress = batch::progressPrinter(terminal ? "calibrating" : "calibration", terminal);
  o.reportProgress = batch::progressPrinter("noise report", terminal);
  batch::StepTimes steps(terminal);
  o.stepStarted = [&steps](const std::string& s) { steps.step(s); };
  steps.step("read");
  const Archive parsed = readArchive(args.archive);
  const std::string path = args.output.empty() ? defaultOutput(args.archive) : args.output;
  files::makeParentDirs(path);  // before the long part: a bad output path fails at once
  noise::MixedPrecisionResult mixed;
  if (args.targetSet) {
    noise::MixedPrecisionOptions m;
    m.targetSnrDb = args.targetSnr;
    m.max16BitFraction = args.max16;
    m.data.path = args.dataPath;
    m.data.size = args.dataSize;
    m.hwArch = args.hwArch;
    m.scriptOut = path + ".mixed.alls";
    mixed = noise::searchMixedPrecision(parsed, o, m);
  }
  const Archive out = args.targetSet ? std::move(mixed.archive) : optimize::optimize(parsed, o);
  steps.step("write");
  const std::string reportPath = path + ".report.json";
  writeOptimized(path, reportPath, out);
  if (args.targetSet) files::writeTextAtomic(path + ".mixed.json", jsonText(mixed.json, 2) + "\n");
  steps.finish();
  std::map<std::string, int> mix;
  for (const Layer& l : out.graph.layers)
    if (!l.precision.empty()) ++mix[l.precision];
  std::string mixText;
  for (const auto& [m, n] : mix)
    mixText += fmt::format("{}{} {}", mixText.empty() ? "" : ", ", n, m);
  fmt::print("Precision: {}\nTime: {}\nWrote {} and {}\n", mixText, steps.summary(), path,
             reportPath);
  if (args.targetSet) {
    fmt::print("{}Wrote {}.mixed.alls and {}.mixed.json\n", mixed.summary, path, path);
    if (!mixed.met) throw CLI::RuntimeError(3);
  }
}

}  // namespace

void addOptimizeCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "optimize",
      "Quantize a parsed archive: apply a model script, calibrate, write integer parameters");
  auto args = std::make_shared<OptimizeArgs>();
  cmd->add_option("archive", args->archive, "The parsed .kar (output of kiln parser)")->required();
  cmd->add_option("--calib-set-path", args->calib,
                  "Calibration data: a directory of JPEG/PNG images or .npy files, one .npy with N "
                  "samples, or an .npz (see docs/calibration.md)");
  cmd->add_flag("--use-random-calib-set", args->random,
                "Calibrate on random data (for trying the flow only: accuracy will be poor)");
  cmd->add_option("--model-script", args->script, "A model script (.alls), see docs/alls.md");
  cmd->add_option("--output-har-path,--output-kar-path", args->output,
                  "Output archive (default: <input>_optimized.kar); --output-har-path is the "
                  "reference's spelling")
      ->check(nonEmptyPath());
  cmd->add_option("--calib-size", args->calibSize,
                  "Number of calibration samples (default: the script's calibset_size, else 64)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_option("--report-samples", args->reportSamples,
                  "Calibration samples the noise report runs (default 16; fewer is faster)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_flag("--strict", args->strict,
                "Treat script commands Kiln parses but does not apply as errors");
  auto* target = cmd->add_option(
      "--target-snr", args->targetSnr,
      "Automatic mixed precision: lift the fewest tensors to 16 bits so that every output "
      "reaches this SNR (dB) on the held-out --data-path; writes <output>.mixed.alls (the "
      "script that rebuilds the archive) and <output>.mixed.json. Exit status 3 when the "
      "target is not reached");
  target->check(CLI::Range(-100.0, 150.0));
  cmd->add_option("--max-16bit-fraction", args->max16,
                  "With --target-snr: at most this fraction of activation bytes in 16 bits "
                  "(default 0.25)")
      ->check(CLI::Range(0.0, 1.0))
      ->needs(target);
  cmd->add_option("--data-path", args->dataPath,
                  "With --target-snr: held-out samples (images, .npy, .npz as --calib-set-path), "
                  "not the calibration set");
  cmd->add_option("--data-size", args->dataSize,
                  "With --target-snr: held-out samples used (default 16)")
      ->check(intIn(1, kMaxCalibSize))
      ->needs(target);
  cmd->add_option("--hw-arch", args->hwArch,
                  "With --target-snr: the target whose resource plan prices the choice (default "
                  "hailo8)")
      ->check(CLI::IsMember(hwarch::archNames()))
      ->needs(target);
  cmd->callback([args, target]() {
    args->targetSet = target->count() > 0;
    runOptimize(*args);
  });
}

}  // namespace kiln::cli
