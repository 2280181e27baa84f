#include "packet_builder.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dplb::test {

namespace {

void put16(Bytes& b, size_t off, uint16_t host) {
    b[off] = uint8_t(host >> 8);
    b[off + 1] = uint8_t(host);
}
void put32(Bytes& b, size_t off, uint32_t host) {
    put16(b, off, uint16_t(host >> 16));
    put16(b, off + 2, uint16_t(host));
}
uint16_t get16(const Bytes& b, size_t off) { return uint16_t(b[off] << 8 | b[off + 1]); }
void put_mac(Bytes& b, size_t off, const pkt::Mac& m) { std::memcpy(&b[off], m.bytes, 6); }
void put_be32(Bytes& b, size_t off, uint32_t be) { std::memcpy(&b[off], &be, 4); }  // already network order
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

// Host-order sum of the IPv4 pseudo-header.
uint32_t pseudo_sum(const Bytes& f, size_t ip_off, uint8_t proto, size_t l4_len) {
    uint32_t s = 0;
    for (size_t i = 0; i < 8; i += 2) s += get16(f, ip_off + 12 + i);
    return s + proto + uint32_t(l4_len);
}

// Offset of the checksum field inside the L4 header, or 0 if the protocol has none we check.
size_t l4_checksum_field(uint8_t proto) {
    switch (proto) {
    case pkt::proto_tcp: return 16;
    case pkt::proto_udp: return 6;
    case pkt::proto_icmp: return 2;
    default: return 0;
    }
}

uint16_t compute_l4(const Bytes& f, size_t ip_off, size_t l4_off, size_t l4_len, uint8_t proto) {
    Bytes seg(f.begin() + long(l4_off), f.begin() + long(l4_off + l4_len));
    size_t field = l4_checksum_field(proto);
    seg[field] = seg[field + 1] = 0;
    if (proto == pkt::proto_icmp) return ref_checksum(seg.data(), seg.size());
    uint16_t c = ref_checksum(seg.data(), seg.size(), pseudo_sum(f, ip_off, proto, l4_len));
    return proto == pkt::proto_udp && c == 0 ? 0xffff : c;
}

}  // namespace

uint32_t ip(const char* dotted) {
    in_addr a{};
    if (inet_pton(AF_INET, dotted, &a) != 1) {
        std::fprintf(stderr, "bad address in test: %s\n", dotted);
        std::abort();
    }
    return a.s_addr;
}

pkt::Mac mac(uint8_t last, uint8_t first) { return pkt::Mac{{first, 0x00, 0x5e, 0x00, 0x53, last}}; }

uint16_t ref_checksum(const uint8_t* data, size_t len, uint32_t initial) {
    uint64_t sum = initial;
    for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(data[i] << 8 | data[i + 1]);
    if (len & 1) sum += uint32_t(data[len - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

Bytes build_frame(const FrameSpec& s) {
    const size_t ihl = 20 + s.ip_options.size();
    Bytes f(pkt::l3_offset + ihl, 0);
    put_mac(f, 0, s.dst_mac);
    put_mac(f, 6, s.src_mac);
    put16(f, 12, 0x0800);
    const size_t ip = pkt::l3_offset;
    f[ip] = uint8_t(0x40 | ihl / 4);
    f[ip + 1] = s.tos;
    put16(f, ip + 4, s.ip_id);
    put16(f, ip + 6, s.frag);
    f[ip + 8] = s.ttl;
    f[ip + 9] = s.proto;
    put_be32(f, ip + 12, s.saddr);
    put_be32(f, ip + 16, s.daddr);
    std::memcpy(&f[ip + 20], s.ip_options.data(), s.ip_options.size());

    const size_t l4 = f.size();
    switch (s.proto) {
    case pkt::proto_tcp: {
        Bytes h(20, 0);
        put16(h, 0, s.sport);
        put16(h, 2, s.dport);
        put32(h, 4, s.seq);
        put32(h, 8, s.ack);
        h[12] = uint8_t((20 + s.tcp_options.size()) / 4 << 4);
        h[13] = s.tcp_flags;
        put16(h, 14, s.window);
        append(f, h);
        append(f, s.tcp_options);
        break;
    }
    case pkt::proto_udp: {
        Bytes h(8, 0);
        put16(h, 0, s.sport);
        put16(h, 2, s.dport);
        put16(h, 4, uint16_t(8 + s.payload.size()));
        append(f, h);
        break;
    }
    case pkt::proto_icmp: {
        Bytes h(8, 0);
        h[0] = s.icmp_type;
        h[1] = s.icmp_code;
        put16(h, 4, s.icmp_id);
        put16(h, 6, s.icmp_seq);
        append(f, h);
        break;
    }
    default:
        break;
    }
    append(f, s.payload);
    const size_t total = f.size() - ip;
    put16(f, ip + 2, uint16_t(total));
    put16(f, ip + 10, ref_checksum(&f[ip], ihl));
    if (size_t field = l4_checksum_field(s.proto)) {
        bool none = s.proto == pkt::proto_udp && s.udp_no_checksum;
        put16(f, l4 + field, none ? 0 : compute_l4(f, ip, l4, f.size() - l4, s.proto));
    }
    f.resize(f.size() + s.eth_padding, 0xee);
    return f;
}

Bytes ip_packet_of(const Bytes& frame, size_t max) {
    const size_t ip = pkt::l3_offset;
    REQUIRE(frame.size() >= ip + 20);
    const size_t total = get16(frame, ip + 2);
    REQUIRE(frame.size() >= ip + total);
    return Bytes(frame.begin() + long(ip), frame.begin() + long(ip + std::min(total, max)));
}

FrameSpec icmp_error_spec(uint32_t src, uint32_t dst, uint8_t type, uint8_t code, const Bytes& quoted, uint16_t mtu) {
    FrameSpec s;
    s.proto = pkt::proto_icmp;
    s.saddr = src;
    s.daddr = dst;
    s.icmp_type = type;
    s.icmp_code = code;
    s.icmp_id = 0;  // unused
    s.icmp_seq = mtu;
    s.payload = quoted;
    return s;
}

Bytes ipip_frame(const Bytes& frame, uint32_t src, uint32_t dst, uint16_t id_host) {
    const size_t ip = pkt::l3_offset;
    const Bytes inner = ip_packet_of(frame);
    Bytes f(frame.begin(), frame.begin() + long(ip));
    Bytes outer(20, 0);
    outer[0] = 0x45;
    outer[1] = inner[1];  // TOS
    put16(outer, 2, uint16_t(20 + inner.size()));
    put16(outer, 4, id_host);
    put16(outer, 6, uint16_t(get16(inner, 6) & 0x4000));  // DF only
    outer[8] = inner[8];                                    // TTL
    outer[9] = 4;                                           // IPIP
    put_be32(outer, 12, src);
    put_be32(outer, 16, dst);
    put16(outer, 10, ref_checksum(outer.data(), outer.size()));
    append(f, outer);
    append(f, inner);
    return f;
}

Bytes build_arp(const ArpSpec& s) {
    Bytes f(42, 0);
    put_mac(f, 0, s.eth_dst);
    put_mac(f, 6, s.eth_src);
    put16(f, 12, 0x0806);
    put16(f, 14, s.htype);
    put16(f, 16, s.ptype);
    f[18] = s.hlen;
    f[19] = s.plen;
    put16(f, 20, s.op);
    put_mac(f, 22, s.sha);
    put_be32(f, 28, s.spa);
    put_mac(f, 32, s.tha);
    put_be32(f, 38, s.tpa);
    f.resize(f.size() + s.eth_padding, 0);
    return f;
}

Checksums recompute_checksums(const Bytes& f) {
    Checksums c;
    const size_t ip = pkt::l3_offset;
    const size_t ihl = size_t(f[ip] & 0x0f) * 4;
    Bytes hdr(f.begin() + long(ip), f.begin() + long(ip + ihl));
    hdr[10] = hdr[11] = 0;
    c.ip_stored = get16(f, ip + 10);
    c.ip_computed = ref_checksum(hdr.data(), hdr.size());
    const uint8_t proto = f[ip + 9];
    if (size_t field = l4_checksum_field(proto)) {
        const size_t l4 = ip + ihl;
        size_t l4_len = get16(f, ip + 2) - ihl;
        if (proto == pkt::proto_udp) l4_len = get16(f, l4 + 4);
        c.has_l4 = true;
        c.l4_stored = get16(f, l4 + field);
        c.l4_computed = compute_l4(f, ip, l4, l4_len, proto);
    }
    return c;
}

void check_checksums(const Bytes& frame, bool udp_zero_ok) {
    Checksums c = recompute_checksums(frame);
    CHECK(c.ip_stored == c.ip_computed);
    REQUIRE(c.has_l4);
    if (udp_zero_ok && frame[pkt::l3_offset + 9] == pkt::proto_udp && c.l4_stored == 0) return;
    CHECK(c.l4_stored == c.l4_computed);
}

void fix_ip_checksum(Bytes& f) {
    const size_t ip = pkt::l3_offset;
    f[ip + 10] = f[ip + 11] = 0;
    put16(f, ip + 10, ref_checksum(&f[ip], size_t(f[ip] & 0x0f) * 4));
}

Bytes payload_for_zero_l4_checksum(FrameSpec s) {
    REQUIRE(s.payload.size() >= 2);
    REQUIRE(s.payload.size() % 2 == 0);  // the two bytes form one aligned 16-bit word
    const size_t n = s.payload.size();
    s.payload[n - 2] = s.payload[n - 1] = 0;
    s.udp_no_checksum = false;
    Bytes f = build_frame(s);
    Checksums c = recompute_checksums(f);
    // c.l4_computed = ~S for the sum S of everything else (UDP: a computed 0 reads 0xffff,
    // but then S is already all ones and the word 0 keeps it so). Adding the word W = ~S
    // makes the sum all ones, so the checksum becomes ~0xffff = 0.
    uint16_t w = c.l4_computed == 0xffff && s.proto == pkt::proto_udp ? 0 : c.l4_computed;
    s.payload[n - 2] = uint8_t(w >> 8);
    s.payload[n - 1] = uint8_t(w);
    return s.payload;
}

std::string describe_difference(const Bytes& got, const Bytes& want) {
    std::string out = "sizes " + std::to_string(got.size()) + " / " + std::to_string(want.size()) + "; differ at:";
    char buf[40];
    for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
        int g = i < got.size() ? got[i] : -1, w = i < want.size() ? want[i] : -1;
        if (g == w) continue;
        std::snprintf(buf, sizeof buf, " [%zu] %02x!=%02x", i, unsigned(g) & 0xff, unsigned(w) & 0xff);
        out += buf;
    }
    return out;
}

Bytes ip_options_of_words(unsigned words) {
    Bytes o(words * 4, 0x01);  // NOP
    if (!o.empty()) o.back() = 0x00;  // EOL
    return o;
}

Bytes tcp_options_mss_sack_ts() {
    return {0x02, 0x04, 0x05, 0xb4,                                          // MSS 1460
            0x04, 0x02,                                                      // SACK permitted
            0x08, 0x0a, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00,      // timestamps
            0x01,                                                            // NOP
            0x03, 0x03, 0x07};                                               // window scale 7
}

Bytes payload_of(size_t n, uint8_t seed) {
    Bytes p(n);
    for (size_t i = 0; i < n; ++i) p[i] = uint8_t(seed + i * 37);
    return p;
}

}  // namespace dplb::test
