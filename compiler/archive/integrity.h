// Archive integrity (format version 2): kiln.json lists the SHA-256 of every other entry
// ("entries") and a SHA-256 of its own other fields ("content_hash"), so that any changed byte of
// an archive — integer parameters, reports and kiln.json itself included — is found on read.
// See docs/archive-format.md, "Integrity".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/archive/tar.h"

namespace kiln::archive {

/// The first archive format version whose kiln.json carries "entries" and "content_hash".
inline constexpr int kFirstSealedVersion = 2;

/// Adds "entries" (name -> SHA-256 hex of every entry except kiln.json) and then "content_hash"
/// (SHA-256 hex of the compact dump of `meta` with "entries" but without "content_hash").
void seal(nlohmann::json& meta, const std::vector<tar::Entry>& entries);

/// Checks what seal() wrote against the archive's entries (`files`, kiln.json excluded): every
/// entry listed and of the listed hash, none missing, kiln.json's own fields unchanged. Error
/// naming `path` and the entry at fault.
void checkSeal(const nlohmann::json& meta, const std::map<std::string, std::vector<uint8_t>>& files,
               const std::string& path);

}  // namespace kiln::archive
