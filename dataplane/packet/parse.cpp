#include "dataplane/packet/parse.hpp"

#include "dataplane/packet/checksum.hpp"

namespace dplb::pkt {

DropReason classify_frame(const uint8_t* frame, uint32_t len, FrameType& type) {
    if (len < sizeof(EthHdr)) return DropReason::eth_truncated;
    uint16_t t = at<EthHdr>(frame, 0)->type_be;
    type = t == ethertype_ipv4_be ? FrameType::ipv4 : t == ethertype_arp_be ? FrameType::arp : FrameType::other;
    return DropReason::none;
}

DropReason parse_ipv4(uint8_t* frame, uint32_t len, bool verify_checksum, ParsedIpv4& out) {
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
        break;
    default:
        break;
    }
    return DropReason::none;
}

}  // namespace dplb::pkt
