// Replies of dplb-control as text: ipvsadm's -L layouts (printf formats of ipvsadm.c's
// print_title / print_service_entry / print_largenum), DPVS's --get-laddr table, and dplb's
// --status. Pure functions, tested against golden text.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "control/model/result.hpp"
#include "tools/dplbadm/args.hpp"

namespace dplb::dplbadm {

// Services sorted as ipvsadm sorts them (protocol, then address, then port) and real
// servers by address then port.
model::Result<std::string> format_list(const nlohmann::json& list_reply, const ListFormat& format);
// "Timeout (tcp tcpfin udp): 900 120 300", from a get-config reply.
model::Result<std::string> format_timeouts(const nlohmann::json& get_config_reply);
// DPVS's `ipvsadm -G` table (without its per-address conflict/connection columns, which the
// dataplane does not report).
model::Result<std::string> format_laddrs(const nlohmann::json& get_laddr_reply);
// dplb's status: connection, generation, then the dataplane's report; every nonzero drop
// reason on a line "  drop <reason> <count>".
model::Result<std::string> format_status(const nlohmann::json& status_reply);

// ipvsadm's print_largenum: 9 columns, K/M/G/T above 10^8 unless `exact`.
std::string largenum(uint64_t n, bool exact);

}  // namespace dplb::dplbadm
