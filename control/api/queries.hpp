// Replies of the read-only requests (docs/api.md): list, get-laddr, get-config. Pure
// functions of the configuration and, for list, the dataplane's (zero-adjusted) counters.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "control/model/stats.hpp"
#include "dplb/config.hpp"

namespace dplb::api {

// Services (all, or `only`) with their counters merged in, matched by protocol+address+port
// and real servers by address+port. `stats` is nullptr when the dataplane is not connected:
// every counter is then 0 and the reply says "dataplane":"disconnected".
nlohmann::json list_reply(const config::Config&, const std::optional<config::ServiceKey>& only,
                          const model::StatsSnapshot* stats);
nlohmann::json get_laddr_reply(const config::Config&, const std::optional<config::ServiceKey>& only);
nlohmann::json get_config_reply(const config::Config&);

}  // namespace dplb::api
