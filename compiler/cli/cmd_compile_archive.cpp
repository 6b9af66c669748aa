// kiln compiler FILE.kar --hw-arch A: plan resources for a target and write the executable
// (<output-dir>/<net>.kef) with the plan beside it (<net>.compile.json).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>

#include <fmt/core.h>

#include "common/file_io.h"
#include "common/npy.h"
#include "common/output_dir.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/flow/build_executable.h"
#include "compiler/hwarch/resource_plan.h"
#include "runtime/format/kef.h"

namespace kiln::cli {

namespace {

struct CompilerArgs {
  std::string archive, hwArch = "hailo8", outDir = ".", script;
  bool failOnUnfit = false;
};

// What the warning compares of a .kef: its metadata and the precision of its activations.
struct KefInfo {
  rt::Metadata meta;
  std::string precision;  // a8, a16, or "mixed (N of M activations in 16 bits)"
};

// Read with the runtime's parser (into an 8-byte aligned copy).
KefInfo kefInfo(const uint8_t* data, size_t size) {
  std::vector<uint64_t> aligned(size / 8 + 1);
  std::copy(data, data + size, reinterpret_cast<uint8_t*>(aligned.data()));
  const rt::Program p =
      rt::parseKef(reinterpret_cast<const uint8_t*>(aligned.data()), size).program;
  size_t wide = 0;
  for (const rt::TensorDesc& t : p.tensors) wide += t.bits == 16;
  const std::string precision =
      wide == 0 ? "a8"
      : wide == p.tensors.size()
          ? "a16"
          : fmt::format("mixed ({} of {} activations in 16 bits)", wide, p.tensors.size());
  return {p.meta, precision};
}

std::string describe(const KefInfo& k) {
  const rt::Metadata& m = k.meta;
  return fmt::format("{} {} for {} from graph {}", m.netName, k.precision, m.hwArch,
                     m.graphHash.empty() ? "(no hash)" : m.graphHash.substr(0, 12));
}

// The output keeps the name users expect (<net>.kef): say so when it replaces the executable of
// another graph, target or precision (a8 -> a16); a newer build of the same graph, target and
// precision replaces it silently.
void warnIfReplacing(const std::string& path, const std::vector<uint8_t>& kef) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return;
  const std::vector<uint8_t> old((std::istreambuf_iterator<char>(f)), {});
  const KefInfo now = kefInfo(kef.data(), kef.size());
  std::string was;
  try {
    const KefInfo k = kefInfo(old.data(), old.size());
    const rt::Metadata& m = k.meta;
    if (m.netName == now.meta.netName && m.hwArch == now.meta.hwArch &&
        m.graphHash == now.meta.graphHash && k.precision == now.precision)
      return;
    was = "it held " + describe(k);
  } catch (const rt::Error& e) {
    was = std::string("it was not a readable .kef (") + e.what() + ")";
  }
  fmt::print(stderr,
             "kiln: warning: replacing {}: {}, now {} (use another --output-dir to keep both)\n",
             path, was, describe(now));
}

void runCompiler(const CompilerArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const Archive a = readArchive(args.archive);
  const hwarch::HwArch& arch = hwarch::findArch(args.hwArch);
  const hwarch::PlanOptions opts =
      args.script.empty() ? hwarch::planOptionsFromArchive(a)
                          : flow::planOptionsFromScriptFile(args.script, [](const std::string& d) {
                              fmt::print(stderr, "{}\n", d);
                            });
  const flow::Executable exe = flow::buildExecutable(a, args.archive, arch, opts);
  const hwarch::ResourcePlan& plan = exe.plan;
  const std::vector<uint8_t>& kef = exe.bytes;
  const std::string summary = plan.summary();
  if (args.failOnUnfit && !plan.unfit().empty()) {
    fmt::print("{}", summary);
    throw Error(args.archive + ": " + plan.unfit());
  }

  const files::DirLock lock(args.outDir, printNote);
  const std::string base =
      args.outDir + "/" + sanitizeFileName(a.graph.name.empty() ? "model" : a.graph.name);
  warnIfReplacing(base + ".kef", kef);
  // The plan of the old .kef goes first: a kill between the two writes leaves a .kef without a
  // plan, never a new .kef beside the plan of the old one.
  files::removeFile(base + ".compile.json");
  files::writeFileAtomic(base + ".kef", kef);
  auto j = plan.toJson();
  nlohmann::ordered_json file = {{"kef", base + ".kef"},
                                 {"kef_bytes", kef.size()},
                                 {"operations", exe.operations},
                                 {"constants", exe.constants},
                                 {"activation_arena_bytes", plan.activationArenaBytes}};
  j["executable"] = file;
  const std::string text = jsonText(j, 2) + "\n";
  files::writeFileAtomic(base + ".compile.json", std::vector<uint8_t>(text.begin(), text.end()));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("{}", summary);
  fmt::print(
      "\nWrote {}.kef ({} bytes; {} operations, activation memory {}) and {}.compile.json "
      "in {:.2f} s\n",
      base, kef.size(), exe.operations, formatBytes(plan.activationArenaBytes), base, secs);
}

}  // namespace

void addCompilerCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compiler",
      "Plan an optimized archive for a target and write the executable (.kef) for kilnrt");
  auto args = std::make_shared<CompilerArgs>();
  cmd->add_option("archive", args->archive, "The optimized .kar (from kiln optimize)")->required();
  cmd->add_option("--hw-arch", args->hwArch,
                  "The target, one of " + join(hwarch::archNames(), ", ") +
                      " (default hailo8; see docs/hw-arch.md; kiln compile takes several)");
  cmd->add_option(
         "--output-dir", args->outDir,
         "Where to write <net>.kef and <net>.compile.json (default: the current directory; a "
         "warning names a <net>.kef of another graph, target or precision that this replaces)")
      ->check(nonEmptyPath());
  cmd->add_option("--model-script", args->script,
                  "A script whose resources_param / context_switch_param / performance_param "
                  "replace those of the script kiln optimize applied; it is validated like kiln "
                  "optimize validates it, and any other command gets a warning that it has no "
                  "effect here");
  cmd->add_flag("--fail-on-unfit", args->failOnUnfit,
                "Fail (exit 1, no .kef) when a context of the resource plan does not fit the "
                "target's memory, instead of writing the .kef with a warning");
  cmd->callback([args]() { runCompiler(*args); });
}

}  // namespace kiln::cli
