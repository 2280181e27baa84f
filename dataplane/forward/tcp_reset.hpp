// TCP resets the dataplane builds itself (expire_nodest_conn): a function of (bytes, tuple,
// sequence numbers), like the rewrites, so tests check them on crafted packets.
#pragma once

#include <cstdint>

#include "dataplane/forward/rewrite.hpp"
#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/headers.hpp"

namespace dplb::fwd {

inline constexpr unsigned tcp_reset_ip_len = sizeof(pkt::Ipv4Hdr) + sizeof(pkt::TcpHdr);  // 40 bytes

// Writes at `l3` a complete IPv4 + TCP reset of 40 bytes (no options, no payload): tuple `t`,
// sequence number `seq_be`, RST alone or, when `with_ack`, RST|ACK acknowledging `ack_be`;
// window 0, DF set. Both checksums are computed from scratch (40 bytes: cheaper than
// tracking what changed).
inline void write_tcp_reset(uint8_t* l3, const Tuple& t, uint32_t seq_be, uint32_t ack_be, bool with_ack,
                            uint8_t tos, uint16_t id_be, uint8_t ttl) {
    auto* ip = pkt::at<pkt::Ipv4Hdr>(l3, 0);
    ip->version_ihl = 0x45;
    ip->tos = tos;
    ip->total_length_be = __builtin_bswap16(uint16_t(tcp_reset_ip_len));
    ip->id_be = id_be;
    ip->frag_be = pkt::ip_frag_df_be;
    ip->ttl = ttl;
    ip->protocol = pkt::proto_tcp;
    ip->checksum = 0;
    ip->saddr = t.saddr;
    ip->daddr = t.daddr;
    ip->checksum = pkt::csum_compute(ip, sizeof(pkt::Ipv4Hdr));
    auto* tcp = pkt::at<pkt::TcpHdr>(l3, sizeof(pkt::Ipv4Hdr));
    tcp->sport = t.sport;
    tcp->dport = t.dport;
    tcp->seq = seq_be;
    tcp->ack = with_ack ? ack_be : 0;
    tcp->data_offset = 5 << 4;
    tcp->flags = uint8_t(pkt::tcp_rst | (with_ack ? pkt::tcp_ack : 0));
    tcp->window = 0;
    tcp->checksum = 0;
    tcp->urgent = 0;
    tcp->checksum = pkt::csum_compute(
        tcp, sizeof(pkt::TcpHdr), pkt::csum_pseudo_ipv4(t.saddr, t.daddr, pkt::proto_tcp, sizeof(pkt::TcpHdr)));
}

// Sequence space a TCP segment occupies: its payload, plus one for SYN and one for FIN.
inline uint32_t tcp_segment_length(const pkt::ParsedIpv4& p) {
    const auto* tcp = pkt::at<pkt::TcpHdr>(p.l4(), 0);
    return uint32_t(p.l4_len() - tcp->header_bytes()) + ((p.tcp_flags & pkt::tcp_syn) ? 1 : 0) +
           ((p.tcp_flags & pkt::tcp_fin) ? 1 : 0);
}

// Replaces the TCP segment `p` holds, in place, by a reset with the same addresses, ports,
// TOS, identification and TTL (so that it then leaves through the session's rewrite like the
// packet it replaces): IP options, TCP options and payload are dropped.
inline void make_tcp_reset_in_place(pkt::ParsedIpv4& p, uint32_t seq_be, uint32_t ack_be, bool with_ack) {
    const pkt::Ipv4Hdr ip = *p.ip();
    write_tcp_reset(p.frame + pkt::l3_offset, Tuple{p.saddr, p.daddr, p.sport, p.dport}, seq_be, ack_be, with_ack,
                    ip.tos, ip.id_be, ip.ttl);
    p.ip_len = tcp_reset_ip_len;
    p.l4_offset = uint16_t(pkt::l3_offset + sizeof(pkt::Ipv4Hdr));
    p.frame_len = pkt::l3_offset + tcp_reset_ip_len;
    p.tcp_flags = uint8_t(pkt::tcp_rst | (with_ack ? pkt::tcp_ack : 0));
}

}  // namespace dplb::fwd
