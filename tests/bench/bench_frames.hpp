// 64-byte frames for the in-process benchmarks: Ethernet + IPv4 + UDP (18 bytes of payload)
// or TCP (a bare header, padded), with correct checksums, written into caller memory so
// millions of them fit in one flat array.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/packet/headers.hpp"

namespace dplb::bench {

inline constexpr uint32_t frame_len = 60;  // 64 on the wire with the FCS
inline constexpr uint32_t frame_stride = 64;

inline uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t(a) | uint32_t(b) << 8 | uint32_t(c) << 16 | uint32_t(d) << 24;  // network order
}
inline uint32_t ipv4_add(uint32_t addr_be, uint32_t n) { return __builtin_bswap32(__builtin_bswap32(addr_be) + n); }

inline uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}
inline uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
    if (n & 1) sum += uint32_t(p[n - 1]) << 8;
    return sum;
}

struct FlowSpec {
    uint32_t saddr, daddr;  // network order
    uint16_t sport, dport;  // host order
    uint8_t proto;          // pkt::proto_udp or pkt::proto_tcp
    uint8_t tcp_flags = pkt::tcp_syn;
};

// Writes the frame of `f` at `out` (frame_len bytes).
inline void write_frame(uint8_t* out, const FlowSpec& f) {
    std::memset(out, 0, frame_len);
    const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x10}, src_mac[6] = {0x02, 0, 0, 0, 0, 0xc1};
    std::memcpy(out, dst_mac, 6);
    std::memcpy(out + 6, src_mac, 6);
    out[12] = 0x08;
    out[13] = 0x00;
    uint8_t* ip = out + 14;
    const bool udp = f.proto == pkt::proto_udp;
    const uint16_t l4_len = udp ? uint16_t(frame_len - 14 - 20) : 20;
    const uint16_t total = uint16_t(20 + l4_len);
    ip[0] = 0x45;
    ip[2] = uint8_t(total >> 8);
    ip[3] = uint8_t(total);
    ip[6] = 0x40;  // DF
    ip[8] = 64;
    ip[9] = f.proto;
    std::memcpy(ip + 12, &f.saddr, 4);
    std::memcpy(ip + 16, &f.daddr, 4);
    const uint16_t ipsum = fold(sum16(ip, 20));
    ip[10] = uint8_t(ipsum >> 8);
    ip[11] = uint8_t(ipsum);
    uint8_t* l4 = ip + 20;
    l4[0] = uint8_t(f.sport >> 8);
    l4[1] = uint8_t(f.sport);
    l4[2] = uint8_t(f.dport >> 8);
    l4[3] = uint8_t(f.dport);
    if (udp) {
        l4[4] = uint8_t(l4_len >> 8);
        l4[5] = uint8_t(l4_len);
        for (unsigned i = 8; i < l4_len; ++i) l4[i] = uint8_t('a' + i % 26);
    } else {
        l4[4] = 0x01;  // sequence number
        l4[12] = 0x50;  // data offset 5
        l4[13] = f.tcp_flags;
        l4[14] = 0xfa;  // window
        l4[15] = 0xf0;
    }
    uint32_t pseudo = sum16(ip + 12, 8) + f.proto + l4_len;
    const uint16_t l4sum = fold(sum16(l4, l4_len, pseudo));
    uint8_t* cks = l4 + (udp ? 6 : 16);
    cks[0] = uint8_t(l4sum >> 8);
    cks[1] = uint8_t(l4sum);
}

}  // namespace dplb::bench
