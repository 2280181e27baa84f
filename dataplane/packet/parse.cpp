#include "dataplane/packet/parse.hpp"

#include "dataplane/packet/checksum.hpp"

#include <cstring>

namespace dplb::pkt {

namespace {

// Fills the quoted-packet fields when an ICMP error quotes an IPv4 TCP/UDP packet with at
// least its ports. Anything else leaves icmp_error false (the packet is then an ordinary
// ICMP message to whoever it is addressed to).
void parse_icmp_error(ParsedIpv4& out, const uint8_t* l4, unsigned l4_len) {
    out.icmp_error = false;
    uint8_t type = at<IcmpHdr>(l4, 0)->type;
    if (type != icmp_dest_unreachable && type != icmp_time_exceeded && type != icmp_parameter_problem) return;
    if (l4_len < sizeof(IcmpHdr) + sizeof(Ipv4Hdr) + 8) return;
    const auto* inner = at<Ipv4Hdr>(l4, sizeof(IcmpHdr));
    unsigned ihl = inner->ihl_bytes();
    if ((inner->version_ihl >> 4) != 4 || ihl < sizeof(Ipv4Hdr)) return;
    if (inner->protocol != proto_tcp && inner->protocol != proto_udp) return;
    if (sizeof(IcmpHdr) + ihl + 8 > l4_len) return;
    const uint8_t* inner_l4 = l4 + sizeof(IcmpHdr) + ihl;
    out.icmp_error = true;
    out.inner_proto = inner->protocol;
    out.inner_l3_offset = uint16_t(out.l4_offset + sizeof(IcmpHdr));
    out.inner_l4_offset = uint16_t(out.inner_l3_offset + ihl);
    out.inner_l4_len = uint16_t(l4_len - sizeof(IcmpHdr) - ihl);
    out.inner_saddr = inner->saddr;
    out.inner_daddr = inner->daddr;
    std::memcpy(&out.inner_sport, inner_l4, 2);
    std::memcpy(&out.inner_dport, inner_l4 + 2, 2);
}

}  // namespace

DropReason classify_frame(const uint8_t* frame, uint32_t len, FrameType& type) {
    if (len < sizeof(EthHdr)) return DropReason::eth_truncated;
    uint16_t t = at<EthHdr>(frame, 0)->type_be;
    type = t == ethertype_ipv4_be ? FrameType::ipv4 : t == ethertype_arp_be ? FrameType::arp : FrameType::other;
    return DropReason::none;
}

DropReason parse_ipv4(uint8_t* frame, uint32_t len, bool verify_checksum, ParsedIpv4& out) {
    out.service_seq = 0;
    if (len < l3_offset + sizeof(Ipv4Hdr)) return DropReason::ip_truncated;
    const auto* ip = at<Ipv4Hdr>(frame, l3_offset);
    if ((ip->version_ihl >> 4) != 4) return DropReason::ip_bad_version;
    unsigned ihl = ip->ihl_bytes();
    unsigned total = __builtin_bswap16(ip->total_length_be);
    if (ihl < sizeof(Ipv4Hdr)) return DropReason::ip_bad_ihl;
    if (l3_offset + ihl > len) return DropReason::ip_truncated;
    if (total < ihl) return total < sizeof(Ipv4Hdr) ? DropReason::ip_bad_total_length : DropReason::ip_bad_ihl;
    if (l3_offset + total > len) return DropReason::ip_bad_total_length;
    if (verify_checksum && csum_fold(csum_partial(ip, ihl)) != 0xffff) return DropReason::ip_bad_checksum;
    if (ip->frag_be & ip_frag_mf_offset_mask_be) return DropReason::ip_fragment;

    out.frame = frame;
    out.frame_len = len;
    out.ip_len = uint16_t(total);
    out.l4_offset = uint16_t(l3_offset + ihl);
    out.proto = ip->protocol;
    out.saddr = ip->saddr;
    out.daddr = ip->daddr;
    out.sport = out.dport = 0;
    out.tcp_flags = 0;
    out.icmp_error = false;

    unsigned l4_len = total - ihl;
    const uint8_t* l4 = frame + out.l4_offset;
    switch (ip->protocol) {
    case proto_tcp: {
        if (l4_len < sizeof(TcpHdr)) return DropReason::l4_truncated;
        const auto* tcp = at<TcpHdr>(l4, 0);
        unsigned doff = tcp->header_bytes();
        if (doff < sizeof(TcpHdr) || doff > l4_len) return DropReason::tcp_bad_data_offset;
        out.sport = tcp->sport;
        out.dport = tcp->dport;
        out.tcp_flags = tcp->flags;
        break;
    }
    case proto_udp: {
        if (l4_len < sizeof(UdpHdr)) return DropReason::l4_truncated;
        const auto* udp = at<UdpHdr>(l4, 0);
        unsigned ulen = __builtin_bswap16(udp->length_be);
        if (ulen < sizeof(UdpHdr) || ulen > l4_len) return DropReason::udp_bad_length;
        out.sport = udp->sport;
        out.dport = udp->dport;
        break;
    }
    case proto_icmp:
        if (l4_len < sizeof(IcmpHdr)) return DropReason::l4_truncated;
        parse_icmp_error(out, l4, l4_len);
        break;
    default:
        break;
    }
    return DropReason::none;
}

}  // namespace dplb::pkt
