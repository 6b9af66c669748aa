// kiln visualizer FILE.kar -o graph.svg [--format svg|dot] [--color-by precision|snr]: the
// network's graph alone, in the report's colours (compiler/profiler/graph_dot.h).
#include <fmt/core.h>

#include "common/file_io.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/profiler/graph_dot.h"
#include "compiler/profiler/graphviz.h"

namespace kiln::cli {

namespace {

struct VisualizerArgs {
  std::string archive, output, format, colourBy = "precision";
};

void runVisualizer(const VisualizerArgs& args) {
  const Archive a = readArchive(args.archive);
  std::string format = args.format;
  if (format.empty()) {
    const bool dotName =
        args.output.size() > 4 && (args.output.compare(args.output.size() - 4, 4, ".dot") == 0 ||
                                   args.output.compare(args.output.size() - 3, 3, ".gv") == 0);
    format = dotName ? "dot" : "svg";
  }
  profiler::DotOptions opts;
  opts.snrDb = profiler::reportSnr(a);
  if (args.colourBy == "snr") {
    if (opts.snrDb.empty())
      throw Error(args.archive +
                  ": --color-by snr needs an optimized archive (its noise report gives the SNR); "
                  "this one has stages " +
                  join(a.stages, ", "));
    opts.colourBy = profiler::ColourBy::Snr;
  }
  const std::string dot = profiler::graphDot(a.graph, opts);
  const std::string text = format == "dot" ? dot : profiler::layoutSvg(dot, args.archive);
  std::string out = args.output;
  if (out.empty())
    out = sanitizeFileName(a.graph.name.empty() ? "model" : a.graph.name) + "." + format;
  if (out == "-") {
    fmt::print("{}", text);
    return;
  }
  files::makeParentDirs(out);
  files::writeTextAtomic(out, text);
  fmt::print("Wrote {} ({} layers, {})\n", out, a.graph.layers.size(),
             formatBytes(int64_t(text.size())));
}

}  // namespace

void addVisualizerCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "visualizer",
      "Draw an archive's graph: one box per layer, top to bottom, filled by precision (or by "
      "SNR), as SVG laid out by Graphviz's dot, or as the dot source itself");
  cmd->footer(
      "\nExamples:\n  kiln visualizer net_optimized.kar -o net.svg\n"
      "  kiln visualizer net_optimized.kar --format dot -o net.dot   (no Graphviz needed)\n"
      "  kiln visualizer net_optimized.kar --color-by snr -o net_snr.svg");
  auto args = std::make_shared<VisualizerArgs>();
  cmd->add_option("archive", args->archive, "The .kar file")->required();
  cmd->add_option("-o,--output", args->output,
                  "The file to write, '-' for standard output (default: <net>.svg or <net>.dot)")
      ->check(nonEmptyPath());
  cmd->add_option("--format", args->format,
                  "svg (Graphviz's layout) or dot (the graph for Graphviz); default: from the "
                  "output's extension (.dot, .gv: dot), else svg")
      ->check(CLI::IsMember({"svg", "dot"}));
  cmd->add_option("--color-by", args->colourBy,
                  "precision (a8_w8, a16_w16, ...; default) or snr (the accumulated SNR of the "
                  "noise report, optimized archives)")
      ->check(CLI::IsMember({"precision", "snr"}));
  cmd->callback([args]() { runVisualizer(*args); });
}

}  // namespace kiln::cli
