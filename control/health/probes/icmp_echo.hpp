// ICMP echo request and reply, for PING_CHECK: building the request (keepalived's 128-byte
// "keepalived check - " payload) and recognising the reply to it among whatever an ICMP
// socket receives.
//
// Threading: plain functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dplb::health::probes {

constexpr std::size_t icmp_echo_payload = 128;  // keepalived's ICMP_BUFSIZE

// Type 8 code 0, checksum filled in (a ping socket recomputes it and sets its own id).
std::vector<uint8_t> icmp_echo_request(uint16_t id, uint16_t sequence);

enum class IcmpMatch : uint8_t {
    other,        // not about our request: keep waiting
    reply,        // our echo reply
    unreachable,  // an ICMP error quoting our request (destination unreachable, time exceeded)
};

// `packet` starts at the ICMP header (ping socket), or at the IP header when `with_ip_header`
// (raw socket). `check_id` false for ping sockets, where the kernel owns the id and only
// delivers replies to it.
IcmpMatch match_icmp(const uint8_t* packet, std::size_t size, bool with_ip_header, bool check_id, uint16_t id,
                     uint16_t sequence);

uint16_t internet_checksum(const uint8_t* data, std::size_t size);

}  // namespace dplb::health::probes
