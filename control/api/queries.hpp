// Replies of the read-only requests (docs/api.md): list, get-laddr, get-port-groups,
// get-config. Pure functions of the configuration and, for list, the dataplane's
// (zero-adjusted) counters and rate estimates.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "model/stats.hpp"
#include "dplb/config.hpp"
#include "codec/stats_json.hpp"

namespace dplb::api {

// Services (all, or `only`) as configured, with their counters, connection counts and rates
// merged in (matched by service key, real servers by address and port), and the port groups
// (all, or only `only`'s). `stats` is nullptr when the dataplane is not connected: the
// counters and rates are then 0 and the reply says "dataplane":"disconnected".
nlohmann::json list_reply(const config::Config&, const std::optional<config::ServiceKey>& only,
                          const model::StatsSnapshot* stats);
nlohmann::json get_laddr_reply(const config::Config&, const std::optional<config::ServiceKey>& only);
// {"ok":true,"port_groups":[...]}: all, or the group of `mark`.
nlohmann::json get_port_groups_reply(const config::Config&, std::optional<uint32_t> mark);
// {"ok":true,"generation":N,"config":{...}}.
nlohmann::json get_config_reply(const config::Config&, uint64_t generation);
// {"ok":true,"sync_daemons":[<sync daemon>,...]} (an empty array when none runs): -L --daemon.
nlohmann::json get_sync_daemons_reply(const config::Config&);

}  // namespace dplb::api
