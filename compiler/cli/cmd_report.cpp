// kiln report merge A.json B.json ... --output-dir D: the reports of a manifest's shards as one.
#include <fmt/core.h>

#include <filesystem>

#include "common/output_dir.h"
#include "compiler/batch/report.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/ir/types.h"

namespace kiln::cli {

namespace {
struct MergeArgs {
  std::vector<std::string> reports;
  std::string outputDir = ".";
};
}  // namespace

void addReportCommand(CLI::App& app) {
  auto* report = app.add_subcommand("report", "Work with the reports of kiln compile --manifest");
  report->require_subcommand(1);
  auto args = std::make_shared<MergeArgs>();
  auto* merge = report->add_subcommand(
      "merge",
      "Merge the report.json files of a manifest's shards (kiln compile --manifest --shard i/n) "
      "into one report.json and report.xml, in manifest order");
  merge->add_option("reports", args->reports, "The shards' report.json files")->required();
  merge
      ->add_option("--output-dir", args->outputDir,
                   "Where report.json and report.xml go (default: current directory)")
      ->check(nonEmptyPath());
  merge->callback([args]() {
    const auto merged = batch::mergeReports(args->reports);
    const files::DirLock lock(args->outputDir, printNote);
    batch::writeReports(args->outputDir, merged);
    fmt::print("merged {} report(s): {}\nreport: {}/report.json, {}/report.xml\n",
               args->reports.size(), batch::summaryLine(merged), args->outputDir, args->outputDir);
    if (!batch::reportPassed(merged)) throw CLI::RuntimeError(1);
  });
}

}  // namespace kiln::cli
