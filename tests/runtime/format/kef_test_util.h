// Helpers for the .kef tests: byte-level patching with the checksums recomputed, and loading
// that returns the error message.
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "runtime/api/runtime.h"
#include "runtime/format/crc32.h"
#include "runtime/format/kef.h"

namespace kiln::test {

template <typename T>
T readAt(const std::vector<uint8_t>& b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}
template <typename T>
void writeAt(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}

// Header fields (docs/file-format.md).
constexpr size_t kVersionAt = 8, kFileSizeAt = 16, kSectionCountAt = 24, kTableOffsetAt = 32,
                 kTableCrcAt = 40, kHeaderCrcAt = 44;

inline size_t tableEntry(const std::vector<uint8_t>& b, uint32_t i) {
  return size_t(readAt<uint64_t>(b, kTableOffsetAt)) + size_t(i) * rt::kKefSectionEntrySize;
}

/// Offset and size of a section; {0, 0} when absent.
inline std::pair<size_t, size_t> sectionOf(const std::vector<uint8_t>& b, const std::string& name) {
  const uint32_t n = readAt<uint32_t>(b, kSectionCountAt);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t e = tableEntry(b, i);
    if (std::string(reinterpret_cast<const char*>(b.data() + e)) == name)
      return {size_t(readAt<uint64_t>(b, e + 16)), size_t(readAt<uint64_t>(b, e + 24))};
  }
  return {0, 0};
}

/// Renames a section in the table (names up to 15 characters).
inline void renameSection(std::vector<uint8_t>& b, const std::string& from, const std::string& to) {
  const uint32_t n = readAt<uint32_t>(b, kSectionCountAt);
  for (uint32_t i = 0; i < n; ++i) {
    char* name = reinterpret_cast<char*>(b.data() + tableEntry(b, i));
    if (from == name) {
      std::memset(name, 0, 16);
      std::memcpy(name, to.data(), to.size());
    }
  }
}

/// Recomputes the table's checksum and the header's (the table must lie inside the file).
inline void fixTableChecksums(std::vector<uint8_t>& b) {
  const uint32_t n = readAt<uint32_t>(b, kSectionCountAt);
  writeAt<uint32_t>(b, kTableCrcAt,
                    rt::crc32(b.data() + tableEntry(b, 0), size_t(n) * rt::kKefSectionEntrySize));
  writeAt<uint32_t>(b, kHeaderCrcAt, rt::crc32(b.data(), kHeaderCrcAt));
}

/// Recomputes every section checksum, the table's and the header's (after a patch; the sections
/// must lie inside the file).
inline void fixChecksums(std::vector<uint8_t>& b) {
  const uint32_t n = readAt<uint32_t>(b, kSectionCountAt);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t e = tableEntry(b, i);
    const size_t off = size_t(readAt<uint64_t>(b, e + 16)),
                 size = size_t(readAt<uint64_t>(b, e + 24));
    writeAt<uint32_t>(b, e + 32, rt::crc32(b.data() + off, size));
  }
  fixTableChecksums(b);
}

/// Loads bytes; returns "" on success, else the error message.
inline std::string loadError(const std::vector<uint8_t>& b, const rt::LoadOptions& o = {}) {
  try {
    rt::Model::fromBytes(b.data(), b.size(), "test.kef", o);
    return "";
  } catch (const rt::Error& e) {
    return e.what();
  }
}

}  // namespace kiln::test
