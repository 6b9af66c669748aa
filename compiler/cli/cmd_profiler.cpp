// kiln profiler FILE.kar [--kef X.kef] [--runtime-profile run.json] [--analysis noise.json]
// -o report.html: one self-contained HTML page of the model, its quantization, its executable
// and how it ran (compiler/profiler/).
#include <chrono>

#include <fmt/core.h>

#include "common/file_io.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/profiler/profiler.h"

namespace kiln::cli {

namespace {

struct ProfilerArgs {
  profiler::ReportInputs in;
  std::string output;
};

void runProfiler(const ProfilerArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const Archive a = readArchive(args.in.karPath);
  const std::string html = profiler::buildReport(a, args.in);
  std::string out = args.output;
  if (out.empty()) out = sanitizeFileName(a.graph.name.empty() ? "model" : a.graph.name) + ".html";
  files::makeParentDirs(out);
  files::writeTextAtomic(out, html);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("Wrote {} ({}) in {:.2f} s\n", out, formatBytes(int64_t(html.size())), secs);
}

}  // namespace

void addProfilerCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "profiler",
      "Write one self-contained HTML report of an archive: the graph coloured by precision or "
      "SNR with a card per layer, the quantization (SNR along the network, ranges, the script), "
      "the resource plan and memory plan, and optionally the runtime's profile and a noise "
      "analysis. It opens offline in any browser; the tables and the graph read without "
      "JavaScript. Needs Graphviz's dot for the graph's layout.");
  cmd->footer(
      "\nExamples:\n"
      "  kiln profiler net_optimized.kar -o net.html\n"
      "  kilnrt run net.kef --profile --json > run.json\n"
      "  kiln profiler net_optimized.kar --kef net.kef --runtime-profile run.json -o net.html\n"
      "\nHow to read each view: docs/user-guide.md, section \"See it\".");
  auto args = std::make_shared<ProfilerArgs>();
  cmd->add_option("archive", args->in.karPath,
                  "The .kar (an optimized archive for the quantization and compilation views)")
      ->required();
  cmd->add_option("-o,--output", args->output,
                  "The HTML file to write (default: <net>.html in the current directory)")
      ->check(nonEmptyPath());
  cmd->add_option("--kef", args->in.kefPath,
                  "The executable (kiln compiler's .kef): its contexts and the memory plan's "
                  "arena; the <net>.compile.json beside it gives the resource plan")
      ->check(CLI::ExistingFile);
  cmd->add_option("--hw-arch", args->in.hwArch,
                  "Without --kef: the target whose resource plan is shown, one of " +
                      join(hwarch::archNames(), ", ") + " (default hailo8)");
  cmd->add_option("--runtime-profile", args->in.runtimeProfilePath,
                  "The output of `kilnrt run X.kef --profile --json`: time per operation and per "
                  "layer type")
      ->check(CLI::ExistingFile);
  cmd->add_option("--analysis", args->in.noisePath,
                  "The output of `kiln analyze-noise --json`: per-layer sensitivity and the "
                  "suggested 16-bit lines")
      ->check(CLI::ExistingFile);
  cmd->callback([args]() {
    hwarch::findArch(args->in.hwArch);  // an unknown target is an error before any work
    runProfiler(*args);
  });
}

}  // namespace kiln::cli
