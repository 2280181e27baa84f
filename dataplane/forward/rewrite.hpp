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

// Rewrites an ICMP error for delivery to the other side of a session: the outer addresses
// become `outer`, the quoted packet's addresses and ports become `quoted` (as that side sent
// it), TTL is decremented, and the outer IP, quoted IP, quoted TCP/UDP (when its checksum is
// within the quote) and ICMP checksums are updated. False (nothing changed) if the TTL is
// exhausted.
inline bool rewrite_icmp_error(pkt::ParsedIpv4& p, const Tuple& outer, const Tuple& quoted) {
    pkt::Ipv4Hdr* ip = p.ip();
    CsumDelta ip_delta;
    if (!decrement_ttl(ip, ip_delta)) return false;
    ip_delta.add32(ip->saddr, outer.saddr);
    ip_delta.add32(ip->daddr, outer.daddr);
    ip->saddr = outer.saddr;
    ip->daddr = outer.daddr;
    ip->checksum = ip_delta.apply(ip->checksum);

    // The ICMP checksum has no pseudo-header: only changes inside the message count.
    CsumDelta icmp_delta;
    pkt::Ipv4Hdr* inner = p.inner_ip();
    CsumDelta addr_delta;
    addr_delta.add32(inner->saddr, quoted.saddr);
    addr_delta.add32(inner->daddr, quoted.daddr);
    uint16_t inner_check = addr_delta.apply(inner->checksum);
    icmp_delta.add16(inner->checksum, inner_check);
    icmp_delta.add32(inner->saddr, quoted.saddr);
    icmp_delta.add32(inner->daddr, quoted.daddr);
    inner->checksum = inner_check;
    inner->saddr = quoted.saddr;
    inner->daddr = quoted.daddr;

    uint8_t* l4 = p.frame + p.inner_l4_offset;
    uint16_t old_sport, old_dport;
    __builtin_memcpy(&old_sport, l4, 2);
    __builtin_memcpy(&old_dport, l4 + 2, 2);
    CsumDelta l4_delta = addr_delta;
    l4_delta.add16(old_sport, quoted.sport);
    l4_delta.add16(old_dport, quoted.dport);
    icmp_delta.add16(old_sport, quoted.sport);
    icmp_delta.add16(old_dport, quoted.dport);
    __builtin_memcpy(l4, &quoted.sport, 2);
    __builtin_memcpy(l4 + 2, &quoted.dport, 2);
    unsigned check_at = p.inner_proto == pkt::proto_tcp ? 16 : 6;
    if (p.inner_l4_len >= check_at + 2) {
        uint16_t old_check;
        __builtin_memcpy(&old_check, l4 + check_at, 2);
        if (p.inner_proto == pkt::proto_tcp || old_check != 0) {
            uint16_t c = l4_delta.apply(old_check);
            if (p.inner_proto == pkt::proto_udp && c == 0) c = 0xffff;
            icmp_delta.add16(old_check, c);
            __builtin_memcpy(l4 + check_at, &c, 2);
        }
    }
    auto* icmp = pkt::at<pkt::IcmpHdr>(p.l4(), 0);
    icmp->checksum = icmp_delta.apply(icmp->checksum);
    p.saddr = outer.saddr;
    p.daddr = outer.daddr;
    return true;
}

inline constexpr unsigned ipip_overhead = sizeof(pkt::Ipv4Hdr);

// IPIP encapsulation (LVS TUN): a new outer IPv4 header from `src` to `dst` in front of the
// untouched packet, with the inner packet's TOS, TTL and DF (as IPVS's ip_vs_tunnel_xmit).
// The frame grows into the headroom: p.frame moves 20 bytes back; Ethernet padding is
// dropped. The caller checked p.headroom >= ipip_overhead.
inline void encapsulate_ipip(pkt::ParsedIpv4& p, uint32_t src, uint32_t dst, uint16_t id_be) {
    const pkt::Ipv4Hdr inner = *p.ip();
    uint8_t* frame = p.frame - ipip_overhead;
    __builtin_memmove(frame, p.frame, sizeof(pkt::EthHdr));
    auto* outer = pkt::at<pkt::Ipv4Hdr>(frame, pkt::l3_offset);
    outer->version_ihl = 0x45;
    outer->tos = inner.tos;
    outer->total_length_be = __builtin_bswap16(uint16_t(p.ip_len + ipip_overhead));
    outer->id_be = id_be;
    outer->frag_be = inner.frag_be & pkt::ip_frag_df_be;
    outer->ttl = inner.ttl;
    outer->protocol = pkt::proto_ipip;
    outer->checksum = 0;
    outer->saddr = src;
    outer->daddr = dst;
    outer->checksum = pkt::csum_compute(outer, sizeof(pkt::Ipv4Hdr));
    p.frame = frame;
    p.headroom = uint16_t(p.headroom - ipip_overhead);
    p.frame_len = pkt::l3_offset + p.ip_len + ipip_overhead;
    p.ip_len = uint16_t(p.ip_len + ipip_overhead);
    p.l4_offset = uint16_t(p.l4_offset + ipip_overhead);  // now the inner IP header
    p.saddr = src;
    p.daddr = dst;
    p.proto = pkt::proto_ipip;
}

// Replaces the packet, in place, by the ICMP "fragmentation needed" error (type 3 code 4)
// that tells its sender the largest packet that fits, `mtu`; it quotes the packet's IP
// header and first 8 payload bytes and comes from `from` (RFC 1191). The caller routes it
// to the sender.
inline void make_frag_needed(pkt::ParsedIpv4& p, uint32_t from, uint16_t mtu) {
    const pkt::Ipv4Hdr original = *p.ip();
    unsigned quoted = original.ihl_bytes() + 8u;
    if (quoted > p.ip_len) quoted = p.ip_len;
    unsigned icmp_at = pkt::l3_offset + sizeof(pkt::Ipv4Hdr);
    __builtin_memmove(p.frame + icmp_at + sizeof(pkt::IcmpHdr), p.frame + pkt::l3_offset, quoted);
    auto* ip = p.ip();
    ip->version_ihl = 0x45;
    ip->tos = 0;
    ip->total_length_be = __builtin_bswap16(uint16_t(sizeof(pkt::Ipv4Hdr) + sizeof(pkt::IcmpHdr) + quoted));
    ip->id_be = 0;
    ip->frag_be = 0;
    ip->ttl = 64;
    ip->protocol = pkt::proto_icmp;
    ip->checksum = 0;
    ip->saddr = from;
    ip->daddr = original.saddr;
    ip->checksum = pkt::csum_compute(ip, sizeof(pkt::Ipv4Hdr));
    auto* icmp = pkt::at<pkt::IcmpHdr>(p.frame, icmp_at);
    icmp->type = pkt::icmp_dest_unreachable;
    icmp->code = pkt::icmp_code_frag_needed;
    icmp->checksum = 0;
    icmp->id = 0;  // unused
    icmp->seq = __builtin_bswap16(mtu);  // next-hop MTU
    icmp->checksum = pkt::csum_compute(icmp, sizeof(pkt::IcmpHdr) + quoted);
    p.ip_len = uint16_t(sizeof(pkt::Ipv4Hdr) + sizeof(pkt::IcmpHdr) + quoted);
    p.frame_len = pkt::l3_offset + p.ip_len;
    p.l4_offset = uint16_t(icmp_at);
    p.proto = pkt::proto_icmp;
    p.saddr = from;
    p.daddr = original.saddr;
}

}  // namespace dplb::fwd
