// A manifest (zoo.yaml): many networks, each a network config file or inline keys, with defaults
// and targets for all of them. `kiln compile --manifest` compiles them as parallel jobs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "compiler/batch/network_config.h"

namespace kiln::batch {

struct Manifest {
  std::string path, name;            // name: the `name` key, or the file's stem
  std::vector<NetworkJob> networks;  // in manifest order; index = position
};

/// Reads a manifest. Problems of the manifest itself (syntax, unknown top-level keys, bad
/// defaults, no networks, two networks with one name) throw Error; a network whose own settings
/// are wrong (unknown key, missing file, wrong type) gets them in its `error`, one per line, and
/// is reported as failed while the others compile. `overrides` (command-line options) apply to
/// every network, last.
Manifest loadManifest(const std::string& path, const NetworkSpec& overrides);

/// "i/n" (1 <= i <= n); throws Error otherwise.
std::pair<int, int> parseShard(const std::string& text);
/// Shard i of n: network k (0-based manifest position) belongs to shard k mod n + 1.
std::vector<NetworkJob> shardOf(const std::vector<NetworkJob>& networks, int i, int n);

}  // namespace kiln::batch
