// Validation and parsing of received frames. Pure functions over bytes: no mbuf, no EAL.
//
// Everything the rest of the fast path needs about an IPv4 packet is extracted once here;
// a packet that fails a check is dropped with the named reason and never looked at again.
#pragma once

#include <cstdint>

#include "dataplane/packet/headers.hpp"
#include "dataplane/stats/drop_reason.hpp"

namespace dplb {
struct ServiceSnap;
}

namespace dplb::pkt {

inline constexpr unsigned l3_offset = sizeof(EthHdr);  // no VLAN support yet

struct ParsedIpv4 {
    uint8_t* frame = nullptr;
    uint32_t frame_len = 0;
    uint16_t l4_offset = 0;   // from the start of the frame
    uint16_t ip_len = 0;      // IPv4 total length
    uint8_t proto = 0;
    uint8_t tcp_flags = 0;    // TCP only
    uint32_t saddr = 0;       // network order
    uint32_t daddr = 0;
    uint16_t sport = 0;       // network order; TCP/UDP only
    uint16_t dport = 0;
    uint16_t headroom = 0;    // bytes before `frame` the caller lets a rewrite prepend into

    // A lookup carried forward (as grout carries the next hop): owner_of() (flow/owner.hpp)
    // stores the service (proto, daddr, dport) leads to in the snapshot whose `sequence` is
    // `service_seq`, and the forwarder uses it instead of looking it up again. 0: none stored
    // (parse_ipv4 clears it).
    const ServiceSnap* service = nullptr;
    uint64_t service_seq = 0;

    // ICMP errors (destination unreachable, time exceeded, parameter problem) quoting a
    // TCP/UDP packet with at least its ports: the quoted packet, as it was sent.
    bool icmp_error = false;
    uint8_t inner_proto = 0;
    uint16_t inner_l3_offset = 0;  // from the start of the frame
    uint16_t inner_l4_offset = 0;
    uint16_t inner_l4_len = 0;     // bytes of the quoted L4 header present (>= 8)
    uint32_t inner_saddr = 0, inner_daddr = 0;
    uint16_t inner_sport = 0, inner_dport = 0;

    Ipv4Hdr* ip() const { return at<Ipv4Hdr>(frame, l3_offset); }
    Ipv4Hdr* inner_ip() const { return at<Ipv4Hdr>(frame, inner_l3_offset); }
    uint8_t* l4() const { return frame + l4_offset; }
    uint16_t l4_len() const { return uint16_t(ip_len - (l4_offset - l3_offset)); }
    bool has_ports() const { return proto == proto_tcp || proto == proto_udp; }
};

enum class FrameType : uint8_t { ipv4, arp, other };

// Classifies by EtherType. eth_truncated if shorter than an Ethernet header.
DropReason classify_frame(const uint8_t* frame, uint32_t len, FrameType& type);

// Validates the IPv4 header (version, IHL, total length, checksum when `verify_checksum`,
// fragments) and the TCP/UDP/ICMP header inside, and fills `out`. Other IP protocols are
// accepted with ports left 0.
DropReason parse_ipv4(uint8_t* frame, uint32_t len, bool verify_checksum, ParsedIpv4& out);

}  // namespace dplb::pkt
