// Internet checksum: full computation (for tests and locally built packets) and the
// incremental update of RFC 1624 (HC' = ~(~HC + ~m + m')) that every rewrite uses, so a
// rewrite costs a few adds whatever the payload size.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dplb::pkt {

// One's-complement sum of `len` bytes, not folded, not inverted. Bytes are summed as
// native-endian 16-bit words: the folded result is in the same (network) byte order as the
// data, which is what checksum fields want.
inline uint32_t csum_partial(const void* data, std::size_t len, uint32_t sum = 0) {
    auto p = static_cast<const uint8_t*>(data);
    uint64_t acc = sum;
    while (len >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        acc += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        uint16_t w;
        __builtin_memcpy(&w, p, 2);
        acc += w;
        p += 2;
        len -= 2;
    }
    if (len) acc += *p;  // odd trailing byte: the low byte in little-endian memory order
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    return uint32_t(acc);
}

inline uint16_t csum_fold(uint32_t sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

// Final checksum field value over `len` bytes (the field itself must be zero in the data).
inline uint16_t csum_compute(const void* data, std::size_t len, uint32_t sum = 0) {
    return uint16_t(~csum_fold(csum_partial(data, len, sum)));
}

// Pseudo-header sum for TCP/UDP over IPv4 (addresses in network order).
inline uint32_t csum_pseudo_ipv4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t l4_len) {
    uint32_t sum = (saddr & 0xffff) + (saddr >> 16) + (daddr & 0xffff) + (daddr >> 16);
    sum += uint32_t(__builtin_bswap16(uint16_t(proto)));
    sum += uint32_t(__builtin_bswap16(l4_len));
    return sum;
}

// Incremental updates (RFC 1624 eqn. 3). `check` is the checksum field as stored.
inline uint16_t csum_replace16(uint16_t check, uint16_t old_v, uint16_t new_v) {
    uint32_t sum = uint16_t(~check);
    sum += uint16_t(~old_v);
    sum += new_v;
    return uint16_t(~csum_fold(sum));
}
inline uint16_t csum_replace32(uint16_t check, uint32_t old_v, uint32_t new_v) {
    uint32_t sum = uint16_t(~check);
    sum += uint16_t(~old_v) + uint16_t(~(old_v >> 16));
    sum += (new_v & 0xffff) + (new_v >> 16);
    return uint16_t(~csum_fold(sum));
}

}  // namespace dplb::pkt
