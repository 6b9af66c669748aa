// kiln compile MODEL.onnx | --config NET.yaml | --manifest ZOO.yaml: parse, optimize, compile and
// verify in one go (the reference's `hailomz compile`); manifests run many networks in parallel.
#include <cctype>

#include <fmt/core.h>

#include "common/output_dir.h"
#include "common/strings.h"
#include "compiler/batch/console.h"
#include "compiler/batch/job.h"
#include "compiler/batch/run_manifest.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/ir/types.h"

namespace kiln::cli {

namespace {

struct CompileArgs {
  std::string model, config, manifest, job, shard;
  int jobs = 1;
  bool keepGoing = false, noCache = false;
  std::string calib, script, netName, outputDir = ".";
  bool randomCalib = false, failOnUnfit = false, reportHtml = false;
  int calibSize = 0, reportSamples = 8, verifySamples = 4;
  std::vector<std::string> hwArch, startNodes, endNodes, tensorShapes;
  CLI::App* cmd = nullptr;
};

bool given(const CompileArgs& a, const char* option) {
  return a.cmd->count(option) > 0;
}

// The command-line options given, as the top layer of every network's settings.
batch::NetworkSpec overrides(const CompileArgs& a) {
  batch::NetworkSpec s;
  auto w = [](const char* option) { return std::string("command line (") + option + ")"; };
  auto path = [](const std::string& p) { return batch::resolvePath("", p); };
  if (given(a, "--calib-set-path")) s.calib.assign(path(a.calib), w("--calib-set-path"));
  if (given(a, "--use-random-calib-set"))
    s.randomCalib.assign(a.randomCalib, w("--use-random-calib-set"));
  if (given(a, "--model-script")) s.script.assign(path(a.script), w("--model-script"));
  if (given(a, "--net-name")) s.name.assign(a.netName, w("--net-name"));
  if (given(a, "--calib-size")) s.calibSize.assign(a.calibSize, w("--calib-size"));
  if (given(a, "--report-samples")) s.reportSamples.assign(a.reportSamples, w("--report-samples"));
  if (given(a, "--verify-samples")) s.verifySamples.assign(a.verifySamples, w("--verify-samples"));
  if (given(a, "--hw-arch")) s.targets.assign(a.hwArch, w("--hw-arch"));
  if (given(a, "--start-node-names")) s.startNodes.assign(a.startNodes, w("--start-node-names"));
  if (given(a, "--end-node-names")) s.endNodes.assign(a.endNodes, w("--end-node-names"));
  if (given(a, "--tensor-shapes")) s.tensorShapes.assign(a.tensorShapes, w("--tensor-shapes"));
  if (given(a, "--fail-on-unfit")) s.failOnUnfit.assign(a.failOnUnfit, w("--fail-on-unfit"));
  if (given(a, "--report-html")) s.reportHtml.assign(a.reportHtml, w("--report-html"));
  return s;
}

bool isArch(const std::string& s) {
  try {
    hwarch::findArch(s);
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool endsWithOnnx(const std::string& s) {
  if (s.size() <= 5) return false;
  std::string ext = s.substr(s.size() - 5);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".onnx";
}

// The list options take every value up to the next option (--hw-arch hailo8 hailo8l), so the
// MODEL given after them (--hw-arch hailo8 model.onnx) lands in the list: give it back when no
// MODEL, --config or --manifest was given and the list's last value cannot belong to it (not a
// target; a tensor shape without '='; a node name ending in .onnx) and is not its only value.
void reclaimModel(CompileArgs& a) {
  auto take = [&](std::vector<std::string>& list, bool (*foreign)(const std::string&)) {
    if (!a.model.empty() || !a.config.empty() || !a.manifest.empty() || !a.job.empty() ||
        list.size() < 2 || !foreign(list.back()))
      return;
    a.model = list.back();
    list.pop_back();
  };
  take(a.hwArch, [](const std::string& v) { return !isArch(v); });
  take(a.tensorShapes, [](const std::string& v) { return v.find('=') == std::string::npos; });
  take(a.startNodes, endsWithOnnx);
  take(a.endNodes, endsWithOnnx);
}

void printError(const std::string& prefix, const std::string& message) {
  // Script errors carry their own "file:line:col: error:".
  const bool formatted =
      message.substr(0, message.find('\n')).find(": error: ") != std::string::npos;
  fmt::print(stderr, "{}{}{}\n", formatted ? "" : "kiln: error: ", prefix, message);
}

// One network in this process: MODEL.onnx or --config.
void runSingle(const batch::NetworkJob& job, const std::string& outputDir) {
  const files::DirLock lock(outputDir, printNote);
  const bool several = job.targets.size() > 1;
  const auto results = batch::runNetwork(
      job, outputDir, several,
      [](const std::string& w) { fmt::print(stderr, "{}\n", batch::warningLine(w)); },
      [](const std::string& s) { fmt::print("{}\n", s); });
  bool failed = false;
  for (const auto& r : results) {
    if (r.status == "ok") {
      fmt::print("\n{}  summary: {}/{}.summary.json\n", r.text, outputDir,
                 r.kef.substr(0, r.kef.size() - 4));
    } else {
      printError(several ? r.target + ": " : "", r.error);
      failed = true;
    }
  }
  if (failed) throw CLI::RuntimeError(1);
}

void runCompile(CompileArgs& a) {
  reclaimModel(a);
  const int modes = !a.model.empty() + !a.config.empty() + !a.manifest.empty() + !a.job.empty();
  if (modes != 1)
    throw Error(
        "give one of MODEL.onnx, --config NET.yaml and --manifest ZOO.yaml (kiln compile --help)");
  if (!a.job.empty()) {  // a manifest's child process
    if (batch::runJobFile(a.job) != 0) throw CLI::RuntimeError(1);
    return;
  }
  if (a.manifest.empty())
    for (const char* o : {"--jobs", "--keep-going", "--no-cache", "--shard"})
      if (given(a, o)) throw Error(std::string(o) + " applies to --manifest runs only");
  const batch::NetworkSpec over = overrides(a);
  if (!a.manifest.empty()) {
    if (given(a, "--net-name"))
      throw Error("--net-name names one network; give names in the manifest (name: key)");
    if (a.jobs < 1) throw Error("--jobs must be at least 1");
    batch::ManifestRunOptions m;
    m.manifestPath = a.manifest;
    m.outputDir = a.outputDir;
    m.jobs = a.jobs;
    m.keepGoing = a.keepGoing;
    m.noCache = a.noCache;
    m.shard = a.shard;
    m.overrides = over;
    if (batch::runManifest(m) != 0) throw CLI::RuntimeError(1);
    return;
  }
  batch::NetworkJob job;
  if (!a.config.empty()) {
    job = batch::loadNetworkConfig(a.config, over);
  } else {
    if (a.calib.empty() == !a.randomCalib)
      throw Error("give exactly one of --calib-set-path PATH and --use-random-calib-set");
    batch::NetworkSpec s = over;
    s.onnx.assign(a.model, "command line");
    batch::Diagnostics d;
    job = batch::resolveNetwork(s, "command line", d);
    d.throwIfAny();
  }
  runSingle(job, a.outputDir);
}

}  // namespace

void addCompileCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compile",
      "ONNX to a verified executable in one go: parse, optimize, compile, then run the .kef with "
      "the runtime and check it bit for bit against the quantized emulation. One model, one "
      "network config (--config) or a manifest of many (--manifest; docs/batch.md)");
  auto args = std::make_shared<CompileArgs>();
  CompileArgs& a = *args;
  a.cmd = cmd;
  cmd->add_option("model", a.model, "The .onnx model");
  cmd->add_option("--config", a.config,
                  "A network config (.yaml): model, script, calibration, "
                  "options, targets (docs/batch.md)");
  cmd->add_option("--manifest", a.manifest,
                  "A manifest (.yaml) of many networks, each compiled in its own process");
  cmd->add_option("-j,--jobs", a.jobs, "Manifest: networks compiled at a time (default 1)")
      ->check(intIn(1, 1024));
  cmd->add_flag("--keep-going", a.keepGoing,
                "Manifest: after a network fails, start the others anyway");
  cmd->add_flag("--no-cache", a.noCache,
                "Manifest: compile every network even when its inputs are unchanged");
  cmd->add_option("--shard", a.shard,
                  "Manifest: compile shard i of n (i/n): network k goes to shard k mod n + 1");
  cmd->add_option("--job", a.job, "Internal: one manifest network (a job.json)")->group("");
  cmd->add_option("--calib-set-path", a.calib,
                  "Calibration data (images, .npy files, one .npy or .npz; docs/calibration.md)");
  cmd->add_flag("--use-random-calib-set", a.randomCalib,
                "Calibrate on random data (to try the flow only)");
  cmd->add_option("--calib-size", a.calibSize, "Calibration samples (default: the script's, 64)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_option("--model-script", a.script, "A model script (.alls), docs/alls.md");
  cmd->add_option("--hw-arch", a.hwArch,
                  "Targets, space- or comma-separated or repeated: --hw-arch hailo8 hailo8l "
                  "(default hailo8; docs/hw-arch.md)")
      ->delimiter(',')
      ->expected(1, -1);
  cmd->add_option("--start-node-names", a.startNodes, "ONNX nodes where the network starts");
  cmd->add_option("--end-node-names", a.endNodes, "ONNX nodes where the network ends");
  cmd->add_option("--tensor-shapes", a.tensorShapes, "Fix dynamic input dimensions: NAME=[d0,...]");
  cmd->add_option("--net-name", a.netName, "Network name (default: the ONNX file's stem)");
  cmd->add_option("--output-dir", a.outputDir,
                  "Where the archives, the .kef and the reports go (default: current directory)")
      ->check(nonEmptyPath());
  cmd->add_option("--report-samples", a.reportSamples,
                  "Calibration samples for the noise report (default 8)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_option("--verify-samples", a.verifySamples,
                  "Calibration samples run through the .kef and the emulation (default 4; 0 "
                  "skips the check)")
      ->check(intIn(0, kMaxCalibSize));
  cmd->add_flag("--fail-on-unfit", a.failOnUnfit,
                "Fail a target (no .kef) when a context of its resource plan does not fit the "
                "target's memory (manifests and configs: fail_on_unfit: true)");
  cmd->add_flag("--report-html", a.reportHtml,
                "Also write <net>.report.html beside each target's .kef: the kiln profiler "
                "report of the network, its quantization and its executable (needs Graphviz's "
                "dot; manifests and configs: report_html: true)");
  cmd->callback([args]() { runCompile(*args); });
}

}  // namespace kiln::cli
