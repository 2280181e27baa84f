#include "control/health/probes/icmp_echo.hpp"

#include <arpa/inet.h>

#include <string_view>

namespace dplb::health::probes {
namespace {

constexpr uint8_t echo_reply = 0, dest_unreachable = 3, echo_request = 8, time_exceeded = 11;

uint16_t read16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// Skips an IPv4 header; null when it does not fit.
const uint8_t* skip_ip(const uint8_t* p, std::size_t& size) {
    if (size < 20 || (p[0] >> 4) != 4) return nullptr;
    std::size_t ihl = std::size_t(p[0] & 0x0f) * 4;
    if (ihl < 20 || size < ihl) return nullptr;
    size -= ihl;
    return p + ihl;
}

bool is_our_echo(const uint8_t* icmp, std::size_t size, uint8_t type, bool check_id, uint16_t id, uint16_t sequence) {
    return size >= 8 && icmp[0] == type && icmp[1] == 0 && (!check_id || read16(icmp + 4) == id) &&
           read16(icmp + 6) == sequence;
}

}  // namespace

uint16_t internet_checksum(const uint8_t* data, std::size_t size) {
    uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < size; i += 2) sum += read16(data + i);
    if (size & 1) sum += uint32_t(data[size - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

std::vector<uint8_t> icmp_echo_request(uint16_t id, uint16_t sequence) {
    static constexpr std::string_view text = "keepalived check - ";
    std::vector<uint8_t> p(8 + icmp_echo_payload);
    p[0] = echo_request;
    p[4] = uint8_t(id >> 8);
    p[5] = uint8_t(id);
    p[6] = uint8_t(sequence >> 8);
    p[7] = uint8_t(sequence);
    for (std::size_t i = 0; i < icmp_echo_payload; ++i) p[8 + i] = uint8_t(text[i % text.size()]);
    uint16_t sum = internet_checksum(p.data(), p.size());
    p[2] = uint8_t(sum >> 8);
    p[3] = uint8_t(sum);
    return p;
}

IcmpMatch match_icmp(const uint8_t* packet, std::size_t size, bool with_ip_header, bool check_id, uint16_t id,
                     uint16_t sequence) {
    const uint8_t* icmp = with_ip_header ? skip_ip(packet, size) : packet;
    if (!icmp || size < 8) return IcmpMatch::other;
    if (is_our_echo(icmp, size, echo_reply, check_id, id, sequence)) return IcmpMatch::reply;
    if (icmp[0] == dest_unreachable || icmp[0] == time_exceeded) {
        // The error quotes the IP header and the first 8 bytes of what it refers to.
        std::size_t quoted_size = size - 8;
        const uint8_t* quoted = skip_ip(icmp + 8, quoted_size);
        if (quoted && is_our_echo(quoted, quoted_size, echo_request, check_id, id, sequence)) return IcmpMatch::unreachable;
    }
    return IcmpMatch::other;
}

}  // namespace dplb::health::probes
