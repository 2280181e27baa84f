// One `virtual_server IP PORT { ... }`, `virtual_server fwmark N { ... }` or
// `virtual_server group NAME { ... }` block, its real_server blocks and their checkers: the
// services as dplb's model and their health options. A group's block gives one service per
// address and fwmark of the group, each with the same real servers, options and checkers.
// The model's own rules (validate_service) are checked by parse.cpp, which knows every
// service.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "control/keepalived/keepalived_config.hpp"
#include "control/keepalived/statement.hpp"

namespace dplb::keepalived {

// local_address_group NAME { IP ... }: the groups of the file, by name.
using LocalAddressGroups = std::map<std::string, std::vector<Ip4>>;

// One line of a virtual_server_group: an address range with a port (0: none written, every
// port, which the model allows for persistent services only), or a fwmark.
struct GroupEntry {
    Location where;
    std::string text;                // the line as written: "192.168.1.10-20 80"
    std::optional<uint32_t> fwmark;  // set: a fwmark entry
    Ip4 first, last;                 // inclusive; first == last for one address
    uint16_t port = 0;

    uint64_t size() const { return fwmark ? 1 : uint64_t(last.host()) - first.host() + 1; }
};

struct VirtualServerGroup {
    Location where;
    std::vector<GroupEntry> entries;  // file order
};

// virtual_server_group NAME { ... }: the groups of the file, by name.
using VirtualServerGroups = std::map<std::string, VirtualServerGroup>;

// The most services one virtual_server may expand to: dplb's dataplane holds 16384 services
// (max_services) by default.
constexpr uint64_t max_group_services = 1u << 14;

struct ParsedVirtualServer {
    config::Service service;
    VirtualServerHealth health;
    // For a service of a group: "group NAME entry 'TEXT' (file:line)", for messages.
    std::string origin;
    std::string group;  // the group's name; empty for `IP PORT` and `fwmark N`
};

// One ParsedVirtualServer per service: one for `IP PORT` and `fwmark N`, one per address or
// fwmark of the group (entry order, a range's addresses in order) for `group NAME`.
model::Result<std::vector<ParsedVirtualServer>> parse_virtual_server(const Statement& s, const LocalAddressGroups& groups,
                                                                     const VirtualServerGroups& vs_groups,
                                                                     std::vector<std::string>& warnings);

// The body of a local_address_group: one "IP [interface]" or "IP-LAST" (a range of the last
// byte) per line; an interface name is DPVS's and is ignored with a warning.
model::Result<std::vector<Ip4>> parse_local_address_group(const Statement& s, std::vector<std::string>& warnings);

// The body of a virtual_server_group, keepalived 2.2's syntax (alloc_vsg_entry), one entry a
// line: "IP [PORT]", "IP-LAST [PORT]" (a range of the last byte, LAST above IP's),
// "IP-IP [PORT]", "IP/LEN [PORT]" (a network, its host bits zero), "fwmark N [inet]". IPv6
// (an address or `inet6`) is an error; so is a group without entries.
model::Result<VirtualServerGroup> parse_virtual_server_group(const Statement& s);

}  // namespace dplb::keepalived
