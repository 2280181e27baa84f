// Answers the dataplane gives itself, built in place in the received buffer: ARP replies
// for owned addresses and ICMP echo replies. The caller sends the frame back out of the port
// it came in on.
#pragma once

#include <cstdint>

#include "dataplane/packet/headers.hpp"
#include "dataplane/packet/parse.hpp"

namespace dplb::fwd {

inline constexpr uint8_t local_reply_ttl = 64;

// Turns a validated ICMP echo request addressed to us into the echo reply.
void make_icmp_echo_reply(pkt::ParsedIpv4& p, const pkt::Mac& our_mac);

// Turns an ARP request (already checked: Ethernet/IPv4, op request, target = an owned
// address) into the reply from `our_mac`.
void make_arp_reply(uint8_t* frame, const pkt::Mac& our_mac);

// Writes a complete ARP request or gratuitous ARP frame (42 bytes) into `frame`.
// Gratuitous: target_ip == sender_ip, destination broadcast.
unsigned build_arp_request(uint8_t* frame, const pkt::Mac& our_mac, uint32_t sender_ip,
                           uint32_t target_ip, const pkt::Mac& dst_mac = pkt::broadcast_mac);

}  // namespace dplb::fwd
