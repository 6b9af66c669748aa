// The .kef executable file: a header, a table of named, aligned, checksummed sections, and the
// sections that hold a Program (docs/file-format.md has the byte-level tables).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/engine/program.h"
#include "runtime/post/nms.h"

namespace kiln::rt {

constexpr char kKefMagic[8] = {'K', 'I', 'L', 'N', 'K', 'E', 'F', '\0'};
constexpr uint32_t kKefVersion = 1;
constexpr uint32_t kKefHeaderSize = 64;
constexpr uint32_t kKefHeaderCrcEnd = 44;  // the header checksum covers bytes [0, 44)
constexpr uint32_t kKefSectionEntrySize = 48;
constexpr uint32_t kKefAlignment = 64;

/// Serializes a program; `planText` (the compiler's resource plan summary) goes into the "plan"
/// section, `nms` (the detector post-processing, when the script asked for it) into "nms". Same
/// program, same bytes.
std::vector<uint8_t> writeKef(const Program& prog, const std::string& planText = "",
                              const NmsConfig* nms = nullptr);

/// The section "nms" (also kept as is in the archive after kiln optimize), and back: the
/// reader checks the encoding (checkNmsConfig checks the values against the program).
std::vector<uint8_t> writeNmsSection(const NmsConfig& c);
NmsConfig readNmsSection(const uint8_t* data, size_t size);

struct KefOptions {
  bool verifyChecksums = true;  // off only for fuzzing the parser beyond the checksums
};

/// A parsed file: the program's constants point into `data`, which must stay alive and be
/// aligned to 8 bytes. Throws Error naming the section and field (not the file: callers add it).
struct KefFile {
  Program program;
  std::string planText;
  bool hasNms = false;
  NmsConfig nms;  // when hasNms: checked against the program's outputs
  uint32_t version = 0;
  struct Section {
    std::string name;
    uint64_t offset = 0, size = 0;
    uint32_t crc = 0;
  };
  std::vector<Section> sections;
};
KefFile parseKef(const uint8_t* data, size_t size, const KefOptions& opts = {});

}  // namespace kiln::rt
