// kiln optimize FILE.kar: model script, calibration and quantization -> an optimized archive.
#include <filesystem>

#include <fmt/core.h>

#include "common/file_io.h"
#include "common/npy.h"
#include "common/output_dir.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/console.h"
#include "compiler/batch/network_config.h"
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
  std::string gatesConfig;  // --target-gates: the network config whose eval:/expect: judge
  std::string dataPath, hwArch = "hailo8";
  int dataSize = 16;
  int searchTrials = 3;  // --search-trials: layers tried whole per round (--target-gates)
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

bool samePath(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

void runOptimize(const OptimizeArgs& args) {
  const bool gates = !args.gatesConfig.empty(), search = args.targetSet || gates;
  if (args.targetSet && gates)
    throw Error("give one of --target-snr and --target-gates: the search meets one target");
  if (!search && (!args.dataPath.empty()))
    throw Error(
        "--data-path is the held-out data of --target-snr / --target-gates: give one of them "
        "too");
  if (search && args.dataPath.empty())
    throw Error(std::string(gates ? "--target-gates" : "--target-snr") +
                " needs held-out data to measure on: --data-path DIR (not the calibration set, "
                "nor the evaluation set the result is judged on)");
  eval::EvalSpec gateSpec;
  if (gates) {
    gateSpec = batch::loadNetworkConfig(args.gatesConfig, {}).evalSpec;
    if (gateSpec.gates.empty())
      throw Error(args.gatesConfig +
                  ": no quality gates: --target-gates needs an expect: section (and eval: "
                  "outputs for the figures it bounds), docs/batch.md");
    if (!gateSpec.data.empty() && samePath(gateSpec.data, args.dataPath))
      fmt::print(stderr, "{}\n",
                 batch::warningLine(
                     "--data-path is the config's evaluation set (eval: data): the search tunes "
                     "on the data its result is judged on; hold out other samples"));
  }
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
  if (search) {
    noise::MixedPrecisionOptions m;
    if (gates) {
      m.gates = gateSpec;
      m.gatesFrom = args.gatesConfig;
    }
    m.targetSnrDb = args.targetSnr;
    m.max16BitFraction = args.max16;
    m.data.path = args.dataPath;
    m.data.size = args.dataSize;
    m.hwArch = args.hwArch;
    m.maxTrials = size_t(args.searchTrials);
    m.scriptOut = path + ".mixed.alls";
    mixed = noise::searchMixedPrecision(parsed, o, m);
  }
  const Archive out = search ? std::move(mixed.archive) : optimize::optimize(parsed, o);
  steps.step("write");
  const std::string reportPath = path + ".report.json";
  writeOptimized(path, reportPath, out);
  if (search) files::writeTextAtomic(path + ".mixed.json", jsonText(mixed.json, 2) + "\n");
  steps.finish();
  std::map<std::string, int> mix;
  for (const Layer& l : out.graph.layers)
    if (!l.precision.empty()) ++mix[l.precision];
  std::string mixText;
  for (const auto& [m, n] : mix)
    mixText += fmt::format("{}{} {}", mixText.empty() ? "" : ", ", n, m);
  fmt::print("Precision: {}\nTime: {}\nWrote {} and {}\n", mixText, steps.summary(), path,
             reportPath);
  if (search) {
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
  cmd->add_option(
         "--max-16bit-fraction", args->max16,
         "With --target-snr / --target-gates: at most this fraction of activation bytes in 16 bits "
         "(default 0.25)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--data-path", args->dataPath,
                  "With --target-snr / --target-gates: held-out samples (images, .npy, .npz as "
                  "--calib-set-path), "
                  "not the calibration set (nor the evaluation set the result is judged on)");
  cmd->add_option("--data-size", args->dataSize,
                  "With --target-snr / --target-gates: held-out samples used (default 16)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_option("--hw-arch", args->hwArch,
                  "With --target-snr / --target-gates: the target whose resource plan prices the "
                  "choice (default "
                  "hailo8)")
      ->check(CLI::IsMember(hwarch::archNames()));
  cmd->add_option(
         "--target-gates", args->gatesConfig,
         "Automatic mixed precision judged by decisions: lift the fewest tensors to 16 bits so "
         "that the quality gates (expect:) of this network config pass on the held-out "
         "--data-path, its eval: outputs saying what each output decides (docs/batch.md); "
         "tensors are ranked by what lifting each alone does to the failing gates' smoothed "
         "figures, and layers with weights are tried whole (a16_w16) by building them. "
         "Writes <output>.mixed.alls and <output>.mixed.json; exit status 3 when a gate still "
         "fails")
      ->check(CLI::ExistingFile);
  cmd->add_option("--search-trials", args->searchTrials,
                  "With --target-gates: layers with weights tried whole (precision_mode=a16_w16) "
                  "per round, each a trial optimize measured on the held-out data (default 3; 0: "
                  "single tensors only)")
      ->check(CLI::Range(0, 64));
  cmd->callback([args, target, cmd]() {
    args->targetSet = target->count() > 0;
    if (!args->targetSet && args->gatesConfig.empty())
      for (const char* o : {"--max-16bit-fraction", "--data-size", "--hw-arch", "--search-trials"})
        if (cmd->count(o))
          throw Error(std::string(o) +
                      " belongs to the mixed-precision search: give "
                      "--target-snr DB or --target-gates CONFIG too");
    runOptimize(*args);
  });
}

}  // namespace kiln::cli
