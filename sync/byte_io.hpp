// Big-endian loads and stores at byte offsets, for the sync wire format. No alignment is
// assumed; callers check bounds before calling.
#pragma once

#include <cstdint>
#include <cstring>

namespace dplb::sync {

inline uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}
// Fields already in network order (addresses, ports): copied as they are.
inline uint32_t load_raw32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline uint16_t load_raw16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
inline void store_raw32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void store_raw16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

}  // namespace dplb::sync
