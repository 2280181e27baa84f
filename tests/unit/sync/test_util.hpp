// Helpers of the sync tests: addresses, and sync messages assembled from record bytes.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "sync/byte_io.hpp"
#include "sync/message_decoder.hpp"

namespace synctest {

using Bytes = std::vector<uint8_t>;

inline uint32_t ip(const char* s) {
    in_addr a{};
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}
inline uint16_t be16(uint16_t host) { return htons(host); }

// A v1 message around `records` (each padded to 4 bytes except the last), size and count set.
inline Bytes wrap(std::initializer_list<Bytes> records, uint8_t syncid = 1) {
    Bytes m = {0, syncid, 0, 0, uint8_t(records.size()), 1, 0, 0};
    bool first = true;
    for (const Bytes& r : records) {
        if (!first)
            while (m.size() % 4) m.push_back(0);
        first = false;
        m.insert(m.end(), r.begin(), r.end());
    }
    dplb::sync::store_be16(&m[2], uint16_t(m.size()));
    return m;
}

// A 36-byte IPv4 record: TCP ESTABLISHED NAT 192.168.1.10:40000 -> 10.0.0.100:80 -> 10.0.1.11:8080,
// with room for `extra` option bytes appended by the caller (size covers them).
inline Bytes v4_record(size_t extra = 0) {
    Bytes r = {
        0x00, 0x06, 0x00, 0x24,  // type IPv4, TCP, ver_size: version 0, size 36
        0x00, 0x00, 0x00, 0x00,  // flags: MASQ
        0x00, 0x01, 0x9c, 0x40,  // state ESTABLISHED, cport 40000
        0x00, 0x50, 0x1f, 0x90,  // vport 80, dport 8080
        0x00, 0x00, 0x00, 0x00,  // fwmark
        0x00, 0x00, 0x03, 0x84,  // timeout 900 s
        0xc0, 0xa8, 0x01, 0x0a,  // caddr 192.168.1.10
        0x0a, 0x00, 0x00, 0x64,  // vaddr 10.0.0.100
        0x0a, 0x00, 0x01, 0x0b,  // daddr 10.0.1.11
    };
    dplb::sync::store_be16(&r[2], uint16_t(36 + extra));
    return r;
}

inline Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

inline dplb::sync::DecodeError decode(const Bytes& b, dplb::sync::SyncMessage* out = nullptr) {
    dplb::sync::SyncMessage m;
    auto e = dplb::sync::decode_message(b, m);
    if (out) *out = m;
    return e;
}

}  // namespace synctest
