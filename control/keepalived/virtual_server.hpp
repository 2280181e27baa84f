// One `virtual_server IP PORT { ... }` or `virtual_server fwmark N { ... }` block, its
// real_server blocks and their checkers: the service as dplb's model and its health options.
// The model's own rules (validate_service) are checked by parse.cpp, which knows every
// service.
//
// Threading: pure functions.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "control/keepalived/keepalived_config.hpp"
#include "control/keepalived/statement.hpp"

namespace dplb::keepalived {

// local_address_group NAME { IP ... }: the groups of the file, by name.
using LocalAddressGroups = std::map<std::string, std::vector<Ip4>>;

struct ParsedVirtualServer {
    config::Service service;
    VirtualServerHealth health;
};

model::Result<ParsedVirtualServer> parse_virtual_server(const Statement& s, const LocalAddressGroups& groups,
                                                        std::vector<std::string>& warnings);

// The body of a local_address_group: one "IP [interface]" or "IP-LAST" (a range of the last
// byte) per line; an interface name is DPVS's and is ignored with a warning.
model::Result<std::vector<Ip4>> parse_local_address_group(const Statement& s, std::vector<std::string>& warnings);

}  // namespace dplb::keepalived
