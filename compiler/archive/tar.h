// A minimal, deterministic ustar reader and writer for Kiln archives (.kar): every entry has mode
// 0644, owner 0, mtime 0, so the same contents always give the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln::tar {

using Entry = std::pair<std::string, std::vector<uint8_t>>;

/// Serialises the entries in the given order.
std::vector<uint8_t> write(const std::vector<Entry>& entries);
/// Parses a tar image; `what` names it in errors. Every header is checked (checksum, size within
/// the file, regular files only).
std::vector<Entry> read(const std::vector<uint8_t>& bytes, const std::string& what);

}  // namespace kiln::tar
