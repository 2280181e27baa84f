// Packet rewrites, as functions of (bytes, new values): no tables, no globals, so they are
// unit-tested on crafted packets. Checksums are updated incrementally (RFC 1624); the tests
// recompute them from scratch after every rewrite.
#pragma once

#include <cstdint>

#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/headers.hpp"
#include "dataplane/packet/parse.hpp"

namespace dplb::fwd {

// Addresses and ports a rewritten packet must carry (network order).
struct Tuple {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
};

// Accumulates ~old + new over changed 16-bit words, then patches any checksum covering them.
class CsumDelta {
public:
    void add16(uint16_t old_v, uint16_t new_v) { sum_ += uint16_t(~old_v) + uint32_t(new_v); }
    void add32(uint32_t old_v, uint32_t new_v) {
        add16(uint16_t(old_v), uint16_t(new_v));
        add16(uint16_t(old_v >> 16), uint16_t(new_v >> 16));
    }
    uint16_t apply(uint16_t check) const {
        uint32_t s = uint16_t(~check) + (sum_ & 0xffff) + (sum_ >> 16);
        return uint16_t(~pkt::csum_fold(s));
    }

private:
    uint32_t sum_ = 0;
};

// Decrements TTL with its checksum update. False (packet untouched) when TTL <= 1.
inline bool decrement_ttl(pkt::Ipv4Hdr* ip, CsumDelta& ip_delta) {
    if (ip->ttl <= 1) return false;
    uint16_t old_word;
    __builtin_memcpy(&old_word, &ip->ttl, 2);
    ip->ttl--;
    uint16_t new_word;
    __builtin_memcpy(&new_word, &ip->ttl, 2);
    ip_delta.add16(old_word, new_word);
    return true;
}

// Forwarding rewrite for TCP/UDP (NAT and FULLNAT, both directions): sets the tuple,
// decrements TTL and fixes the IP and TCP/UDP checksums. False (nothing changed) if the TTL
// is exhausted.
inline bool rewrite_tuple(pkt::ParsedIpv4& p, const Tuple& to) {
    pkt::Ipv4Hdr* ip = p.ip();
    CsumDelta ip_delta;
    if (!decrement_ttl(ip, ip_delta)) return false;

    CsumDelta addr_delta;
    addr_delta.add32(ip->saddr, to.saddr);
    addr_delta.add32(ip->daddr, to.daddr);
    ip_delta.add32(ip->saddr, to.saddr);
    ip_delta.add32(ip->daddr, to.daddr);
    ip->saddr = to.saddr;
    ip->daddr = to.daddr;
    ip->checksum = ip_delta.apply(ip->checksum);

    CsumDelta l4_delta = addr_delta;  // the pseudo-header carries the addresses
    l4_delta.add16(p.sport, to.sport);
    l4_delta.add16(p.dport, to.dport);
    if (p.proto == pkt::proto_tcp) {
        auto* tcp = pkt::at<pkt::TcpHdr>(p.l4(), 0);
        tcp->sport = to.sport;
        tcp->dport = to.dport;
        tcp->checksum = l4_delta.apply(tcp->checksum);
    } else {
        auto* udp = pkt::at<pkt::UdpHdr>(p.l4(), 0);
        udp->sport = to.sport;
        udp->dport = to.dport;
        if (udp->checksum != 0) {  // 0 = sender computed none; keep it that way
            uint16_t c = l4_delta.apply(udp->checksum);
            udp->checksum = c == 0 ? 0xffff : c;  // RFC 768: a computed 0 is sent as all ones
        }
    }
    p.saddr = to.saddr;
    p.daddr = to.daddr;
    p.sport = to.sport;
    p.dport = to.dport;
    return true;
}

}  // namespace dplb::fwd
