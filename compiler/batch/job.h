// One network compiled in one process: parse and optimize once, then compile and verify for each
// target. Used in-process by `kiln compile MODEL.onnx|--config`, and in a child process per
// network by `kiln compile --manifest` (`kiln compile --job DIR/job.json`, an internal command).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/batch/network_config.h"

namespace kiln::batch {

struct TargetResult {
  std::string target;
  std::string status;  // ok | failed | cached | skipped
  std::string error;   // failed, skipped: why
  double seconds = 0;  // this target's compile + verify, plus its share of parse + optimize
  nlohmann::ordered_json summary;  // the flow's summary (ok, cached)
  std::string text;                // the flow's few lines for a terminal (ok)
  std::string kef;                 // relative to the network's directory: hailo8/net.kef
  std::string kefSha256;
};

/// Compiles `job` into `dir` (kar, optimized kar, noise report; the .kef, plan and summary of
/// each target in dir/<target>/ when `perTargetDirs`, else in dir). Errors of the network never
/// escape: a failed parse or optimize fails every target, a failed target leaves the others.
std::vector<TargetResult> runNetwork(const NetworkJob& job, const std::string& dir,
                                     bool perTargetDirs,
                                     const std::function<void(const std::string&)>& warn,
                                     const std::function<void(const std::string&)>& info);

/// The message of the exception being handled (call inside a catch block).
std::string describeCurrentException();

/// A job as JSON (the file a manifest's child process reads) and back.
nlohmann::ordered_json jobToJson(const NetworkJob& job);
NetworkJob jobFromJson(const nlohmann::ordered_json& j);

/// result.json of a network's directory: what the job did, and the cache's record.
nlohmann::ordered_json resultToJson(const NetworkJob& job, const std::string& cacheKey,
                                    const nlohmann::ordered_json& cacheInputs,
                                    const std::vector<TargetResult>& results);
std::vector<TargetResult> resultsFromJson(const nlohmann::ordered_json& j);

/// `kiln compile --job FILE`: FILE holds {job, dir, cache_key, cache_inputs}; writes
/// dir/result.json. Returns the exit status: 0 when every target compiled, 1 otherwise.
int runJobFile(const std::string& path);

}  // namespace kiln::batch
