#include "compiler/batch/run_manifest.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/core.h>

#include "common/file_io.h"
#include "common/npy.h"
#include "common/output_dir.h"
#include "common/strings.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/cache.h"
#include "compiler/batch/job_runner.h"
#include "compiler/batch/report.h"
#include "compiler/ir/types.h"

namespace kiln::batch {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

void writeText(const std::string& path, const std::string& text) {
  files::writeFileAtomic(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::string logTail(const std::string& path, size_t lines) {
  std::ifstream f(path);
  std::vector<std::string> all;
  for (std::string l; std::getline(f, l);) all.push_back(l);
  const size_t from = all.size() > lines ? all.size() - lines : 0;
  return join(std::vector<std::string>(all.begin() + long(from), all.end()), "\n");
}

std::vector<TargetResult> allTargets(const NetworkJob& job, const std::string& status,
                                     const std::string& why) {
  std::vector<TargetResult> out;
  // A network whose targets could not be read still gets one entry.
  for (const auto& t : job.targets.empty() ? std::vector<std::string>{"config"} : job.targets) {
    out.emplace_back();
    out.back().target = t;
    out.back().status = status;
    out.back().error = why;
  }
  return out;
}

std::string exitText(const TaskExit& e) {
  if (!e.spawnError.empty()) return e.spawnError;
  if (e.signal) return fmt::format("the compile process was killed by signal {}", e.signal);
  return fmt::format("the compile process exited with status {} without a result", e.exitCode);
}

}  // namespace

int runManifest(const ManifestRunOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  RunInfo run;
  run.started = utcNow();
  run.host = hostName();
  const Manifest m = loadManifest(o.manifestPath, o.overrides);
  std::vector<NetworkJob> jobs = m.networks;
  if (!o.shard.empty()) {
    const auto [i, n] = parseShard(o.shard);
    jobs = shardOf(m.networks, i, n);
    run.shard = o.shard;
  }
  std::error_code ec;
  // One run at a time in an output directory: the networks' directories and the report.
  const files::DirLock lock(
      o.outputDir, [](const std::string& note) { fmt::print(stderr, "kiln: note: {}\n", note); });

  const std::string kilnId = kilnIdentity();
  FileDigests digests;
  std::vector<NetworkOutcome> outcomes(jobs.size());
  std::vector<Task> tasks(jobs.size());
  std::vector<std::string> startLines(jobs.size());
  for (size_t k = 0; k < jobs.size(); ++k) {
    const NetworkJob& job = jobs[k];
    const std::string dir = o.outputDir + "/" + job.dir;
    outcomes[k].job = &job;
    tasks[k].label = job.name;
    tasks[k].logPath = dir + "/compile.log";
    fs::create_directories(dir, ec);
    if (ec) {
      outcomes[k].targets =
          allTargets(job, "failed", dir + ": cannot create (" + ec.message() + ")");
      continue;
    }
    if (!job.error.empty()) {
      writeText(tasks[k].logPath, "kiln: error: " + job.error + "\n");
      outcomes[k].targets = allTargets(job, "failed", job.error);
      continue;
    }
    const CacheKey key = cacheKey(job, kilnId, digests);
    if (!o.noCache)
      if (auto cached = cachedResults(dir, key.key)) {
        outcomes[k].targets = *cached;
        continue;
      }
    const std::string changed = o.noCache ? "" : changedInputs(dir, key);
    startLines[k] =
        fmt::format("start   {}{}", job.name, changed.empty() ? "" : " (changed: " + changed + ")");
    Json spec;
    spec["job"] = jobToJson(job);
    spec["dir"] = dir;
    spec["cache_key"] = key.key;
    spec["cache_inputs"] = key.inputs;
    writeText(dir + "/job.json", jsonText(spec, 2) + "\n");
    fs::remove(dir + "/result.json", ec);  // a crash must not leave an old success behind
    tasks[k].args = {"compile", "--job", dir + "/job.json"};
  }

  RunnerHooks hooks;
  hooks.starting = [&](size_t k) { return startLines[k]; };
  hooks.skip = [&](size_t k) {
    outcomes[k].targets = allTargets(jobs[k], "skipped",
                                     "not started: an earlier network failed (--keep-going "
                                     "compiles every network)");
  };
  hooks.finish = [&](size_t k, const TaskExit& e) -> std::pair<bool, std::string> {
    NetworkOutcome& out = outcomes[k];
    const NetworkJob& job = jobs[k];
    if (e.ran || !e.spawnError.empty()) {
      try {
        const auto bytes = files::readFile(o.outputDir + "/" + job.dir + "/result.json");
        out.targets = resultsFromJson(Json::parse(bytes.begin(), bytes.end()));
      } catch (const std::exception&) {
        out.targets = allTargets(job, "failed", exitText(e));
      }
    }
    bool failed = false, cached = true;
    std::string parts;
    for (const TargetResult& t : out.targets) {
      failed |= t.status == "failed";
      cached &= t.status == "cached";
      parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", t.target,
                           t.status == "failed" ? "FAILED" : t.status);
    }
    std::string line = fmt::format("{:<7} {} ({})",
                                   failed   ? "FAILED"
                                   : cached ? "cached"
                                            : "ok",
                                   job.name, parts);
    if (e.ran) line += fmt::format(" in {:.1f} s", e.seconds);
    if (failed) {
      if (e.ran) out.logTail = logTail(tasks[k].logPath, 30);
      for (const TargetResult& t : out.targets)
        if (t.status == "failed") {
          const std::string first = t.error.substr(0, t.error.find('\n'));
          line += "\n        " + first + "\n        log: " + tasks[k].logPath;
          break;
        }
    }
    return {failed, line};
  };
  fmt::print("kiln compile --manifest {}: {} network(s){}, -j {}\n", o.manifestPath, jobs.size(),
             o.shard.empty() ? "" : " (shard " + o.shard + ")", o.jobs);
  std::fflush(stdout);
  runTasks(tasks, {o.jobs, o.keepGoing}, hooks);

  run.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Json report = buildReport(m, outcomes, run);
  writeReports(o.outputDir, report);
  fmt::print("{} in {:.1f} s\nreport: {}/report.json, {}/report.xml\n", summaryLine(report),
             run.wallSeconds, o.outputDir, o.outputDir);
  return reportPassed(report) ? 0 : 1;
}

}  // namespace kiln::batch
