// Reading the members of a ZIP archive such as NumPy's .npz: stored and deflated members, ZIP64
// sizes, CRC-checked. Every size and offset is validated against the archive's bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::calib {

struct ZipMember {
  std::string name;           // as stored, e.g. "x.npy"
  std::vector<uint8_t> data;  // uncompressed bytes
};

/// Largest uncompressed member accepted (4 GiB).
constexpr uint64_t kMaxZipMemberSize = uint64_t(4) << 30;

/// All file members in central-directory order (directories skipped). Throws CalibError starting
/// with `what` for anything malformed, encrypted or compressed with a method other than
/// stored (0) or deflate (8).
std::vector<ZipMember> readZip(const std::vector<uint8_t>& bytes, const std::string& what);

}  // namespace kiln::calib
