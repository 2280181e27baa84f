// The values of dplbadm's options turned into the members of control-socket requests: the
// service a command names, a service's attributes (-s -p -M -b --mh-table-size), a real
// server (-r -m/-b/-g/-i -w -x -y), timeouts (--set) and port-group matches (--add-mark).
// Syntax only: dplb-control validates the meaning.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "tools/dplbadm/options.hpp"

namespace dplb::dplbadm {

struct ServiceArg {
    nlohmann::json key;  // {"fwmark":N} or {"protocol","address","port"}
    uint16_t port = 0;   // the service's port: 0 for fwmark and port-0 services
};

// -t|-u VIP[:PORT] (no port = port 0, as ipvsadm) or -f MARK; exactly one was given.
model::Result<ServiceArg> service_arg(const Parsed& p);

// The attributes -A / -E send. -A sends what is given (dplb-control's defaults are
// ipvsadm's); -E, like ipvsadm, sets every attribute: the ones not given go back to ipvsadm's
// defaults (wlc, not persistent, no flags) and the mh table to its default size.
model::Status service_attributes(const Parsed& p, bool editing, nlohmann::json& service);

// "sh-fallback,sh-port", with ipvsadm's aliases flag-1 (fallback) and flag-2 (port) resolved
// for `scheduler`, as ipvsadm's parse_sched_flags does.
model::Result<nlohmann::json> sched_flags(std::string_view text, std::string_view scheduler);

// -r RIP[:PORT] (default port: the service's) and, unless `address_only`, the attributes of
// -a / -e. On -e only what is given is sent, so the rest keeps its value (ipvsadm would reset
// an omitted -w to 1 and the method to -g).
model::Result<nlohmann::json> real_server(const Parsed& p, uint16_t service_port, bool adding, bool address_only);

// --set tcp tcpfin udp: 0 leaves a value unchanged, as in ipvsadm.
model::Result<nlohmann::json> timeouts(const Parsed& p);

// --add-mark / --del-mark: -t|-u VIP:PORT or VIP:FIRST-LAST.
model::Result<nlohmann::json> port_match(const Parsed& p);

// A firewall mark: 1..4294967295.
model::Result<uint32_t> parse_fwmark(std::string_view text);

}  // namespace dplb::dplbadm
