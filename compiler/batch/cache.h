// The compile cache of `kiln compile --manifest`: a network is not compiled again when the
// SHA-256 of everything its outputs depend on (the Kiln executable and version, the ONNX file and
// its external data, the script, the calibration files, the options, the targets) matches the
// key stored in its directory's result.json and its executables are still there, unchanged.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/batch/job.h"

namespace kiln::batch {

struct CacheKey {
  std::string key;                // hex SHA-256 of `inputs`
  nlohmann::ordered_json inputs;  // the digest of each input, for "what changed"
};

/// Digests of files, each read once per run.
class FileDigests {
 public:
  std::string file(const std::string& path);  // "missing" when it cannot be read
  /// A directory: its non-hidden files, recursively, sorted by relative path (path + digest).
  std::string directory(const std::string& path);

 private:
  std::map<std::string, std::string> memo_;
};

/// SHA-256 of the running kiln executable (/proc/self/exe) and its version.
std::string kilnIdentity();

CacheKey cacheKey(const NetworkJob& job, const std::string& kilnId, FileDigests& digests);

/// The results stored in `networkDir`/result.json, as "cached", when its key is `key`, every
/// target compiled and every .kef is there with its recorded digest; nothing otherwise.
std::optional<std::vector<TargetResult>> cachedResults(const std::string& networkDir,
                                                       const std::string& key);

/// The inputs that differ from the previous result.json's (for a log line), or "" when there is
/// no previous result.
std::string changedInputs(const std::string& networkDir, const CacheKey& key);

}  // namespace kiln::batch
