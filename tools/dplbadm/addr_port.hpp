// ipvsadm's address arguments: "VIP:PORT" for services, "RIP[:PORT]" for real servers.
// Syntax only (strict dotted quad, decimal port); dplb-control decides what is allowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace dplb::dplbadm {

struct AddrPort {
    std::string address;
    std::optional<uint16_t> port;  // absent when the text has no ":PORT"
};

// `what` names the argument in errors ("service address", "real server address").
model::Result<AddrPort> parse_addr_port(std::string_view text, std::string_view what);
// A decimal integer in [min, max]; `what` names it in errors.
model::Result<uint64_t> parse_number(std::string_view text, uint64_t min, uint64_t max, std::string_view what);

}  // namespace dplb::dplbadm
