// `kiln compile --manifest ZOO.yaml`: every network of the manifest (or of one shard of it) in
// its own child process, at most `jobs` at a time, with the cache, one log per network, and
// report.json + report.xml in the output directory.
#pragma once

#include <string>

#include "compiler/batch/network_config.h"

namespace kiln::batch {

struct ManifestRunOptions {
  std::string manifestPath;
  std::string outputDir = ".";
  int jobs = 1;
  bool keepGoing = false;  // without: after the first failure no new network starts
  bool noCache = false;
  std::string shard;      // "i/n", or empty for all
  NetworkSpec overrides;  // command-line options applied to every network
};

/// Runs the manifest; returns the exit status (0: every network and target compiled or was
/// cached; 1 otherwise). Problems of the manifest itself throw Error before anything runs.
int runManifest(const ManifestRunOptions& o);

}  // namespace kiln::batch
