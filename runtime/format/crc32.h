// CRC-32 (IEEE 802.3, the polynomial of zlib and PNG), for the .kef section checksums.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::rt {

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

}  // namespace kiln::rt
