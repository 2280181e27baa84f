// CRC32C (Castagnoli), the journal records' checksum: with SSE4.2 (the build's baseline on
// x86-64, see meson.build) it is one instruction per 8 bytes; elsewhere a bitwise fallback.
#pragma once

#include <cstdint>
#include <string_view>

namespace dplb::state {

// Continues a CRC over `data`; start with crc = 0. crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace dplb::state
