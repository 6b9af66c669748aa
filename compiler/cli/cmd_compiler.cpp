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
#include "format/kef.h"
#include "hwarch/resource_plan.h"
#include "lower/lower_program.h"
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

// Operations in layer order; each context of the plan becomes the run of operations whose layers
// it holds.
std::vector<rt::ContextDesc> contextsOf(const LoweredProgram& lp, const hw::ResourcePlan& plan) {
  std::vector<int> contextOfLayer(lp.layerTensor.size(), 0);
  for (const auto& l : plan.layers) contextOfLayer[size_t(l.layer)] = l.context;
  std::vector<rt::ContextDesc> out;
  int current = -1;
  for (size_t i = 0; i < lp.opLayer.size(); ++i) {
    const int c = std::max(current, contextOfLayer[size_t(lp.opLayer[i])]);
    if (c != current) {
      out.push_back({uint32_t(i), 0, 0, 0});
      current = c;
    }
    ++out.back().opCount;
  }
  for (size_t k = 0; k < out.size() && k < plan.contexts.size(); ++k) {
    out[k].weightBytes = plan.contexts[k].weightBytes;
    out[k].macs = plan.contexts[k].macs;
  }
  return out;
}

void runCompiler(const CompilerArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const Archive a = readArchive(args.archive);
  if (std::find(a.stages.begin(), a.stages.end(), "optimize") == a.stages.end())
    throw Error(args.archive + ": this archive holds the float network only (stages: " +
                join(a.stages, ", ") + "); quantize it first:\n  kiln optimize " + args.archive +
                " --calib-set-path <calib> [--model-script <script.alls>]");
  const hw::HwArch& arch = hw::findArch(args.hwArch);
  hw::PlanOptions opts = args.script.empty()
                             ? hw::planOptionsFromArchive(a)
                             : hw::planOptionsFromScript(alls::parseScriptFile(args.script));
  hw::ResourcePlan plan = hw::planResources(a.graph, arch, opts);

  LoweredProgram lp = lowerProgram(a.graph);
  rt::Program& prog = lp.owned.program;
  prog.meta = {a.graph.name, arch.name, toolVersion(), a.graphHash};
  prog.contexts = contextsOf(lp, plan);
  plan.activationArenaBytes = prog.arenaElems * int64_t(sizeof(int32_t));

  const std::string summary = plan.summary();
  const std::vector<uint8_t> kef = rt::writeKef(prog, summary);
  // The written file must load: the runtime's own checks run before anything is kept.
  rt::parseKef(kef.data(), kef.size());

  makeDir(args.outDir);
  const std::string base =
      args.outDir + "/" + sanitizeFileName(a.graph.name.empty() ? "model" : a.graph.name);
  npy::writeFileAtomic(base + ".kef", kef);
  auto j = plan.toJson();
  nlohmann::ordered_json file = {{"kef", base + ".kef"},
                                 {"kef_bytes", kef.size()},
                                 {"operations", prog.ops.size()},
                                 {"constants", prog.consts.size()},
                                 {"activation_arena_bytes", plan.activationArenaBytes}};
  j["executable"] = file;
  const std::string text = j.dump(2) + "\n";
  npy::writeFileAtomic(base + ".compile.json", std::vector<uint8_t>(text.begin(), text.end()));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("{}", summary);
  fmt::print(
      "\nWrote {}.kef ({} bytes; {} operations, activation memory {}) and {}.compile.json "
      "in {:.2f} s\n",
      base, kef.size(), prog.ops.size(), hw::formatBytes(plan.activationArenaBytes), base, secs);
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
