// The 5-tuple that indexes a session in one direction, as it appears in the packet.
#pragma once

#include <cstdint>
#include <cstring>

namespace dplb {

struct FlowKey {
    uint32_t src = 0;  // network order
    uint32_t dst = 0;
    uint16_t sport = 0;  // network order
    uint16_t dport = 0;
    uint8_t proto = 0;
    uint8_t pad_[3] = {};  // always zero: keys are compared and hashed as 16 raw bytes

    FlowKey() = default;
    FlowKey(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, uint8_t p)
        : src(s), dst(d), sport(sp), dport(dp), proto(p) {}

    // The key of the packet travelling the other way.
    FlowKey reversed() const { return FlowKey(dst, src, dport, sport, proto); }

    friend bool operator==(const FlowKey& a, const FlowKey& b) {
        uint64_t a0, a1, b0, b1;
        std::memcpy(&a0, &a, 8);
        std::memcpy(&a1, reinterpret_cast<const char*>(&a) + 8, 8);
        std::memcpy(&b0, &b, 8);
        std::memcpy(&b1, reinterpret_cast<const char*>(&b) + 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
};
static_assert(sizeof(FlowKey) == 16);

// CRC32-C of the 16 key bytes: two instructions on SSE4.2.
inline uint32_t flow_hash(const FlowKey& k, uint32_t seed = 0x9747b28cu) {
    uint64_t w0, w1;
    std::memcpy(&w0, &k, 8);
    std::memcpy(&w1, reinterpret_cast<const char*>(&k) + 8, 8);
#if defined(__SSE4_2__)
    return uint32_t(__builtin_ia32_crc32di(__builtin_ia32_crc32di(seed, w0), w1));
#else
    uint64_t h = (w0 ^ seed) * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 29) ^ w1) * 0xbf58476d1ce4e5b9ull;
    return uint32_t(h ^ (h >> 32));
#endif
}

}  // namespace dplb
