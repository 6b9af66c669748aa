// SHA-256 (FIPS 180-4), used for graph hashes and content addressing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  /// Finishes and returns the lowercase hex digest; the object must not be updated afterwards.
  std::string hexDigest();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t bufLen_ = 0;
  uint64_t totalBits_ = 0;
};

/// One-shot helper.
std::string sha256Hex(const void* data, size_t size);

}  // namespace kiln
