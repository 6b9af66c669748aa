// kiln eval CONFIG.yaml: task-level evaluation of a network config's `eval:` section, float as
// the reference, and its `expect:` gates (issue 10). docs/user-guide.md, docs/batch.md. The work
// is batch::evaluateConfig (compiler/batch/evaluate_config.h); this prints it.
#include <fmt/core.h>

#include "compiler/batch/console.h"
#include "compiler/batch/evaluate_config.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"

namespace kiln::cli {

namespace {

struct EvalArgs {
  std::string config, data, outputDir = ".", hwArch;
  std::vector<std::string> targets = {"quantized"};
  int size = 0, calibSize = 0;
  CLI::App* cmd = nullptr;
};

void runEval(const EvalArgs& a) {
  batch::EvaluateConfigOptions o;
  o.targets = a.targets;
  o.data = a.data;
  o.size = a.size;
  if (a.cmd->count("--hw-arch")) o.hwArch = a.hwArch;
  if (a.cmd->count("--calib-size")) o.calibSize = a.calibSize;
  o.outputDir = a.outputDir;
  o.warn = [](const std::string& w) { fmt::print(stderr, "{}\n", batch::warningLine(w)); };
  o.info = [](const std::string& s) { fmt::print("{}\n", s); };
  o.note = [](const std::string& s) { fmt::print(stderr, "{}\n", s); };
  const bool terminal = batch::stderrIsTerminal();
  o.progress = batch::progressPrinter("calibration", terminal);
  o.reportProgress = batch::progressPrinter("noise report", terminal);
  o.evalProgress = batch::progressPrinter("evaluation", terminal);
  const batch::EvaluateConfigResult r = batch::evaluateConfig(a.config, o);
  fmt::print("\n{}", r.result.table());
  fmt::print("  figures: {}\n", r.jsonPath);
  if (!r.result.passed()) {
    fmt::print(stderr, "kiln: error: {}: a quality gate (expect:) was missed\n", r.name);
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
