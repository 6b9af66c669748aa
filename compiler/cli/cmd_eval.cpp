// kiln eval CONFIG.yaml: task-level evaluation of a network config's `eval:` section, float as
// the reference, and its `expect:` gates (issue 10). docs/user-guide.md, docs/batch.md.
#include <fmt/core.h>

#include "common/file_io.h"
#include "common/output_dir.h"
#include "common/strings.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/console.h"
#include "compiler/batch/network_config.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/eval/evaluate.h"
#include "compiler/flow/compile_flow.h"

namespace kiln::cli {

namespace {

struct EvalArgs {
  std::string config, data, outputDir = ".", hwArch;
  std::vector<std::string> targets = {"quantized"};
  int size = 0, calibSize = 0;
  CLI::App* cmd = nullptr;
};

void runEval(const EvalArgs& a) {
  batch::NetworkSpec over;
  if (a.cmd->count("--hw-arch")) over.targets.assign({a.hwArch}, "command line (--hw-arch)");
  if (a.cmd->count("--calib-size"))
    over.calibSize.assign(a.calibSize, "command line (--calib-size)");
  batch::NetworkJob job = batch::loadNetworkConfig(a.config, over);
  eval::EvalSpec& spec = job.evalSpec;
  if (!a.data.empty()) spec.data = batch::resolvePath("", a.data);
  if (a.size > 0) spec.size = a.size;
  if (spec.data.empty())
    throw Error(a.config +
                ": no evaluation set: add an eval: section with data: (images, .npy or .npz), "
                "or give --data (docs/batch.md)");
  for (const std::string& t : a.targets)
    if (std::find(eval::targetNames().begin(), eval::targetNames().end(), t) ==
        eval::targetNames().end())
      throw Error("--targets: unknown target '" + t + "' (expected " +
                  join(eval::targetNames(), ", ") + ")");
  const bool kef = std::find(a.targets.begin(), a.targets.end(), "kef") != a.targets.end();

  const files::DirLock lock(a.outputDir,
                            [](const std::string& s) { fmt::print(stderr, "{}\n", s); });
  flow::CompileOptions o = job.opts;
  o.outputDir = a.outputDir;
  o.warn = [](const std::string& w) { fmt::print(stderr, "{}\n", batch::warningLine(w)); };
  o.info = [](const std::string& s) { fmt::print("{}\n", s); };
  const bool terminal = batch::stderrIsTerminal();
  o.progress = batch::progressPrinter("calibration", terminal);
  o.reportProgress = batch::progressPrinter("noise report", terminal);
  if (job.imageSize.size() == 2)
    o.afterParse = [&job](const Graph& g) { batch::checkImageSize(job, g); };
  const flow::OptimizedNetwork n = flow::optimizeNetwork(o);
  eval::EvalOptions eo;
  eo.targets = a.targets;
  if (kef) {
    const flow::CompileResult c = flow::compileTarget(n, o, job.targets.front(), a.outputDir);
    eo.kefPath = c.kefPath;
  }
  eo.progress = batch::progressPrinter("evaluation", terminal);
  const eval::EvalResult r = eval::evaluate(n.optimized.graph, spec, eo);
  fmt::print("\n{}", r.table());
  const std::string path = a.outputDir + "/" + sanitizeFileName(n.netName) + ".eval.json";
  files::writeTextAtomic(path, jsonText(r.toJson(), 2) + "\n");
  fmt::print("  figures: {}\n", path);
  if (!r.passed()) {
    fmt::print(stderr, "kiln: error: {}: a quality gate (expect:) was missed\n", job.name);
    throw CLI::RuntimeError(1);
  }
}

}  // namespace

void addEvalCommand(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  EvalArgs& a = *args;
  auto* cmd = app.add_subcommand(
      "eval",
      "Task-level accuracy of a network config: optimize it, run the evaluation set (eval: data) "
      "through the float network and the quantized builds, and compare each output's decisions "
      "(eval: outputs: classes, scores, map, regress, sequence) against float and labels; check "
      "the expect: gates (exit 1 when one is missed). Prints a table and writes "
      "<net>.eval.json (docs/batch.md)");
  a.cmd = cmd;
  cmd->add_option("config", a.config, "The network config (.yaml) with an eval: section")
      ->required();
  cmd->add_option("--targets", a.targets,
                  "Builds to compare with float, comma-separated: quantized (the integer "
                  "emulation), kef (the compiled executable, run by the runtime); native is the "
                  "float reference itself (default quantized)")
      ->delimiter(',')
      ->expected(1, -1);
  cmd->add_option("--data", a.data, "Evaluation set instead of the config's eval.data");
  cmd->add_option("--size", a.size, "At most this many evaluation samples (default: all)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_option("--calib-size", a.calibSize, "Calibration samples (default: the config's)")
      ->check(intIn(1, kMaxCalibSize));
  cmd->add_option("--hw-arch", a.hwArch, "Target of the kef build (default: the config's first)");
  cmd->add_option(
         "--output-dir", a.outputDir,
         "Where the archives, the .kef and <net>.eval.json go (default: current directory)")
      ->check(nonEmptyPath());
  cmd->callback([args]() { runEval(*args); });
}

}  // namespace kiln::cli
