// The Kiln archive (.kar): a tar holding kiln.json (format, tool version, graph hash, stages,
// entry hashes), network.json (the layers) and params/*.npy (float parameters). See
// docs/archive-format.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace kiln {

/// 2: kiln.json lists the SHA-256 of every entry and a hash of its own fields (integrity.h).
/// Version 1 archives (no entry hashes) are still read.
inline constexpr int kArchiveFormatVersion = 2;
/// The tool version written into archives (from CMake).
const char* toolVersion();

struct Archive {
  Graph graph;
  std::string toolVersion;
  std::string graphHash;
  std::vector<std::string> stages;                    // "parse", later "optimize", "compile"
  std::map<std::string, std::vector<uint8_t>> extra;  // other entries, kept as they are
};

/// SHA-256 over the network description and the parameter bytes.
std::string graphHash(const Graph& g);
/// The archive's bytes (deterministic).
std::vector<uint8_t> serializeArchive(const Archive& a);
/// Writes atomically (temporary file + rename).
void writeArchive(const std::string& path, const Archive& a);
/// Reads and validates an archive; Error names the file and the entry or layer at fault.
Archive readArchive(const std::string& path);

}  // namespace kiln
