// Replies of dplb-control as text: ipvsadm's -L layouts (printf formats of ipvsadm.c's
// print_title / print_service_entry / print_largenum / print_conn), ipvsadm -S rules,
// DPVS's --get-laddr table, port groups, and dplb's --status. Pure functions, tested against
// golden text.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "dplb/config.hpp"
#include "tools/dplbadm/args.hpp"

namespace dplb::dplbadm {

// Services sorted as ipvsadm sorts them (address services by protocol, address and port,
// then fwmark services by mark) and real servers by address then port, unless !format.sort.
// The servers listed are the table the health checker leaves (the reply's `in_table`, at
// `table_weight`), the sorry server among them when it is in the table.
model::Result<std::string> format_list(const nlohmann::json& list_reply, const ListFormat& format);
// "Timeout (tcp tcpfin udp): 900 120 300" from a get-config reply, then a line per service
// that overrides the global values; for one `service` (a key, or null), its effective values.
model::Result<std::string> format_timeouts(const nlohmann::json& get_config_reply,
                                           const nlohmann::json& service = nullptr);
// -L -c from a connections reply: "IPVS connection entries", expire as mm:ss.
model::Result<std::string> format_connections(const nlohmann::json& connections_reply);
// -S: the rules -R reads (see format_save.cpp for the order): the configuration, never the
// runtime health state.
std::string format_save(const config::Config& config, bool sort = true);
// DPVS's `ipvsadm -G` table (without its per-address conflict/connection columns, which the
// dataplane does not report).
model::Result<std::string> format_laddrs(const nlohmann::json& get_laddr_reply);
// --get-mark: "FWM  Prot VirtualAddress:Port(s)", one match per line.
model::Result<std::string> format_port_groups(const nlohmann::json& get_port_groups_reply);
// dplb's status: connection, generation, then the dataplane's report; every nonzero drop
// reason on a line "  drop <reason> <count>".
model::Result<std::string> format_status(const nlohmann::json& status_reply);
// --health: per virtual server its quorum, per real server its state and each checker's.
model::Result<std::string> format_health(const nlohmann::json& health_reply);

// -L --daemon from a get-sync-daemons reply: ipvsadm 1.31's lines, master first.
model::Result<std::string> format_daemons(const nlohmann::json& get_sync_daemons_reply);
// One of those lines (with its "\n").
std::string daemon_line(const config::SyncDaemon& daemon);

// ipvsadm's print_largenum: 9 columns, K/M/G/T above 10^8 unless `exact`.
std::string largenum(uint64_t n, bool exact);
// "TCP  10.0.0.1:80" or "FWM  66", as ipvsadm names a service in listings.
std::string ipvsadm_service_name(const config::ServiceKey& key);

}  // namespace dplb::dplbadm
