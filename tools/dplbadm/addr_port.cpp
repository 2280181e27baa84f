#include "tools/dplbadm/addr_port.hpp"

#include <charconv>

#include "dplb/ip4.hpp"

namespace dplb::dplbadm {

using model::Error;

model::Result<uint64_t> parse_number(std::string_view text, uint64_t min, uint64_t max, std::string_view what) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < min || v > max)
        return Error{"", "invalid " + std::string(what) + " '" + std::string(text) + "' (expected " +
                             std::to_string(min) + ".." + std::to_string(max) + ")"};
    return v;
}

model::Result<AddrPort> parse_addr_port(std::string_view text, std::string_view what) {
    auto bad = [&](const std::string& why) {
        return Error{"", "invalid " + std::string(what) + " '" + std::string(text) + "': " + why};
    };
    auto colon = text.rfind(':');
    std::string_view addr = text.substr(0, colon);
    if (!Ip4::parse(addr)) return bad("'" + std::string(addr) + "' is not a dotted-quad IPv4 address");
    AddrPort out{std::string(addr), std::nullopt};
    if (colon == std::string_view::npos) return out;
    auto port = parse_number(text.substr(colon + 1), 0, 65535, "port");
    if (!port) return bad("port '" + std::string(text.substr(colon + 1)) + "' is not a number 0..65535");
    out.port = uint16_t(*port);
    return out;
}

}  // namespace dplb::dplbadm
