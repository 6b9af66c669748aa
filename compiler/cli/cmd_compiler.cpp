// kiln compiler FILE.kar --hw-arch A: plan resources for a target and write the executable
// (<output-dir>/<net>.kef) with the plan beside it (<net>.compile.json).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <fmt/core.h>

#include "alls/parser.h"
#include "archive/archive.h"
#include "cli/commands.h"
#include "common/npy.h"
#include "flow/build_executable.h"
#include "hwarch/resource_plan.h"
#include "util/strings.h"

namespace kiln::cli {

namespace {

struct CompilerArgs {
  std::string archive, hwArch = "hailo8", outDir = ".", script;
};

void makeDir(const std::string& d) {
  if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error(d + ": cannot create output directory (" + std::strerror(errno) + ")");
}

void runCompiler(const CompilerArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const Archive a = readArchive(args.archive);
  const hw::HwArch& arch = hw::findArch(args.hwArch);
  const hw::PlanOptions opts = args.script.empty()
                                   ? hw::planOptionsFromArchive(a)
                                   : hw::planOptionsFromScript(alls::parseScriptFile(args.script));
  const flow::Executable exe = flow::buildExecutable(a, args.archive, arch, opts);
  const hw::ResourcePlan& plan = exe.plan;
  const std::vector<uint8_t>& kef = exe.bytes;
  const std::string summary = plan.summary();

  makeDir(args.outDir);
  const std::string base =
      args.outDir + "/" + sanitizeFileName(a.graph.name.empty() ? "model" : a.graph.name);
  npy::writeFileAtomic(base + ".kef", kef);
  auto j = plan.toJson();
  nlohmann::ordered_json file = {{"kef", base + ".kef"},
                                 {"kef_bytes", kef.size()},
                                 {"operations", exe.operations},
                                 {"constants", exe.constants},
                                 {"activation_arena_bytes", plan.activationArenaBytes}};
  j["executable"] = file;
  const std::string text = j.dump(2) + "\n";
  npy::writeFileAtomic(base + ".compile.json", std::vector<uint8_t>(text.begin(), text.end()));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("{}", summary);
  fmt::print(
      "\nWrote {}.kef ({} bytes; {} operations, activation memory {}) and {}.compile.json "
      "in {:.2f} s\n",
      base, kef.size(), exe.operations, hw::formatBytes(plan.activationArenaBytes), base, secs);
}

}  // namespace

void addCompilerCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compiler",
      "Plan an optimized archive for a target and write the executable (.kef) for kilnrt");
  auto args = std::make_shared<CompilerArgs>();
  cmd->add_option("archive", args->archive, "The optimized .kar (from kiln optimize)")->required();
  cmd->add_option(
      "--hw-arch", args->hwArch,
      "Target: " + join(hw::archNames(), ", ") + " (default hailo8; see docs/hw-arch.md)");
  cmd->add_option(
      "--output-dir", args->outDir,
      "Where to write <net>.kef and <net>.compile.json (default: the current directory)");
  cmd->add_option("--model-script", args->script,
                  "A script whose resources_param / context_switch_param / performance_param "
                  "replace those of the script kiln optimize applied");
  cmd->callback([args]() { runCompiler(*args); });
}

}  // namespace kiln::cli
