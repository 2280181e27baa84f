// UDP_CHECK's `payload` and `require_reply` data, read as keepalived 2.2.7 reads them
// (read_hex_str): hex digits in pairs, blanks between groups allowed, a lone digit before a
// blank or the end is one byte ("1 02" = 01 02). In reply data an 'x' or 'X' nibble is a
// wildcard ("4xx0" matches 40..4f f0 ... nibble by nibble).
//
// Threading: plain functions and values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace dplb::health::probes {

struct HexBytes {
    std::vector<uint8_t> bytes;
    std::vector<uint8_t> mask;  // per byte: bits set = wildcard (don't compare)
};

// nullopt on anything else than hex digits, blanks and (when allowed) wildcards, or when
// nothing is given (keepalived rejects an empty hex string).
std::optional<HexBytes> parse_hex(std::string_view text, bool allow_wildcards);

// keepalived's check_udp_reply: the reply matches when its first min(reply, expected)
// bytes equal the expected ones outside the wildcards (a shorter reply is compared on its
// own length).
bool reply_matches(const HexBytes& expected, const uint8_t* reply, std::size_t size);

}  // namespace dplb::health::probes
