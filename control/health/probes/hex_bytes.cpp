#include "control/health/probes/hex_bytes.hpp"

#include <algorithm>

namespace dplb::health::probes {
namespace {

// A nibble's value, 0x10 for a wildcard, -1 for anything else.
int nibble(char c, bool allow_wildcards) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (allow_wildcards && (c == 'x' || c == 'X')) return 0x10;
    return -1;
}

}  // namespace

std::optional<HexBytes> parse_hex(std::string_view text, bool allow_wildcards) {
    HexBytes out;
    std::size_t i = 0;
    for (;;) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i >= text.size()) break;
        int hi = nibble(text[i++], allow_wildcards);
        if (hi < 0) return std::nullopt;
        uint8_t value = uint8_t(hi & 0xf), mask = hi == 0x10 ? 0x0f : 0;
        if (i < text.size() && text[i] != ' ' && text[i] != '\t') {
            int lo = nibble(text[i++], allow_wildcards);
            if (lo < 0) return std::nullopt;
            value = uint8_t((value << 4) | (lo & 0xf));
            mask = uint8_t((mask << 4) | (lo == 0x10 ? 0x0f : 0));
        }
        out.bytes.push_back(value);
        out.mask.push_back(mask);
    }
    if (out.bytes.empty()) return std::nullopt;
    return out;
}

bool reply_matches(const HexBytes& expected, const uint8_t* reply, std::size_t size) {
    std::size_t n = std::min(size, expected.bytes.size());
    for (std::size_t i = 0; i < n; ++i)
        if ((reply[i] ^ expected.bytes[i]) & uint8_t(~expected.mask[i])) return false;
    return true;
}

}  // namespace dplb::health::probes
