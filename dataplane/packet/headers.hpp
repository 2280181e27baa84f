// Wire formats the dataplane reads and writes. Packed structs overlaid on packet bytes; all
// multi-byte fields are in network byte order (suffix `_be` where it matters).
#pragma once

#include <cstdint>
#include <cstring>

namespace dplb::pkt {

inline constexpr uint16_t ethertype_ipv4_be = 0x0008;  // 0x0800 in network order (LE host)
inline constexpr uint16_t ethertype_arp_be = 0x0608;   // 0x0806

inline constexpr uint8_t proto_icmp = 1;
inline constexpr uint8_t proto_tcp = 6;
inline constexpr uint8_t proto_udp = 17;

struct Mac {
    uint8_t bytes[6];  // no initializer: must stay trivial to live inside packed headers
    bool is_zero() const { return (bytes[0] | bytes[1] | bytes[2] | bytes[3] | bytes[4] | bytes[5]) == 0; }
    friend bool operator==(const Mac&, const Mac&) = default;
};
inline constexpr Mac broadcast_mac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

struct __attribute__((packed)) EthHdr {
    Mac dst;
    Mac src;
    uint16_t type_be;
};
static_assert(sizeof(EthHdr) == 14);

struct __attribute__((packed)) Ipv4Hdr {
    uint8_t version_ihl;
    uint8_t tos;
    uint16_t total_length_be;
    uint16_t id_be;
    uint16_t frag_be;  // flags (3 bits) + fragment offset (13 bits)
    uint8_t ttl;
    uint8_t protocol;
    uint16_t checksum;
    uint32_t saddr;
    uint32_t daddr;

    unsigned ihl_bytes() const { return unsigned(version_ihl & 0x0f) * 4; }
};
static_assert(sizeof(Ipv4Hdr) == 20);
inline constexpr uint16_t ip_frag_mf_offset_mask_be = 0xff3f;  // MF | offset, network order (LE host)
inline constexpr uint16_t ip_frag_df_be = 0x0040;

struct __attribute__((packed)) TcpHdr {
    uint16_t sport;
    uint16_t dport;
    uint32_t seq;
    uint32_t ack;
    uint8_t data_offset;  // high 4 bits
    uint8_t flags;
    uint16_t window;
    uint16_t checksum;
    uint16_t urgent;

    unsigned header_bytes() const { return unsigned(data_offset >> 4) * 4; }
};
static_assert(sizeof(TcpHdr) == 20);
inline constexpr uint8_t tcp_fin = 0x01, tcp_syn = 0x02, tcp_rst = 0x04, tcp_psh = 0x08, tcp_ack = 0x10;

struct __attribute__((packed)) UdpHdr {
    uint16_t sport;
    uint16_t dport;
    uint16_t length_be;
    uint16_t checksum;  // 0 = none (IPv4)
};
static_assert(sizeof(UdpHdr) == 8);

struct __attribute__((packed)) IcmpHdr {
    uint8_t type;
    uint8_t code;
    uint16_t checksum;
    uint16_t id;
    uint16_t seq;
};
static_assert(sizeof(IcmpHdr) == 8);
inline constexpr uint8_t icmp_echo_reply = 0, icmp_echo_request = 8;
inline constexpr uint8_t icmp_dest_unreachable = 3, icmp_time_exceeded = 11, icmp_parameter_problem = 12;
inline constexpr uint8_t icmp_code_frag_needed = 4;
inline constexpr uint8_t proto_ipip = 4;

struct __attribute__((packed)) ArpHdr {
    uint16_t htype_be;  // 1 = Ethernet
    uint16_t ptype_be;  // 0x0800
    uint8_t hlen;       // 6
    uint8_t plen;       // 4
    uint16_t op_be;     // 1 request, 2 reply
    Mac sha;
    uint32_t spa;
    Mac tha;
    uint32_t tpa;
};
static_assert(sizeof(ArpHdr) == 28);
inline constexpr uint16_t arp_htype_ether_be = 0x0100, arp_op_request_be = 0x0100, arp_op_reply_be = 0x0200;

template <class T>
inline T* at(uint8_t* base, unsigned offset) {
    return reinterpret_cast<T*>(base + offset);
}
template <class T>
inline const T* at(const uint8_t* base, unsigned offset) {
    return reinterpret_cast<const T*>(base + offset);
}

}  // namespace dplb::pkt
