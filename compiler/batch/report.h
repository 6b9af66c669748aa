// The report of a manifest run: report.json (one entry per network and target, in manifest
// order) and report.xml (JUnit: one testsuite per network, one testcase per target), and the
// merge of shard reports (`kiln report merge`). docs/batch.md describes both formats.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/batch/job.h"
#include "compiler/batch/manifest.h"

namespace kiln::batch {

/// One network's outcome in a run.
struct NetworkOutcome {
  const NetworkJob* job = nullptr;
  std::vector<TargetResult> targets;
  std::string logTail;  // the end of its log, for failures
};

struct RunInfo {
  std::string shard = "1/1";
  std::string started;  // UTC, YYYY-MM-DDTHH:MM:SS
  std::string host;
  double wallSeconds = 0;
};

/// report.json. Paths are relative to the output directory, so shard reports merge.
nlohmann::ordered_json buildReport(const Manifest& m, const std::vector<NetworkOutcome>& outcomes,
                                   const RunInfo& run);

/// The JUnit XML of a report.
std::string junitXml(const nlohmann::ordered_json& report);

/// Writes dir/report.json and dir/report.xml.
void writeReports(const std::string& dir, const nlohmann::ordered_json& report);

/// Shard reports of one manifest merged into one: results in manifest order, the summary
/// recounted, networks that no report has listed under summary.missing. Throws Error naming the
/// files on reports of different manifests, on a file or shard given twice, on a network and
/// target in two reports, and on a report whose structure is not a Kiln report's.
nlohmann::ordered_json mergeReports(const std::vector<std::string>& paths);

/// "8 results: 6 ok, 0 cached, 2 failed, 0 skipped" (+ missing).
std::string summaryLine(const nlohmann::ordered_json& report);
/// True when every result is ok or cached and no network is missing.
bool reportPassed(const nlohmann::ordered_json& report);

/// Now, as UTC YYYY-MM-DDTHH:MM:SS; and this machine's host name.
std::string utcNow();
std::string hostName();

}  // namespace kiln::batch
