// JSON codec of the dataplane's `stats` reply (docs/api.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "model/stats.hpp"

namespace dplb::model {

nlohmann::json to_json(const Counters&);
// {"cps":..,"inpps":..,"outpps":..,"inbps":..,"outbps":..}
nlohmann::json to_json(const Rates&);
Result<Counters> counters_from_json(const nlohmann::json& j, const std::string& path);

// {"ok":true,"generation":N,"services":[...]}: what the dataplane sends.
nlohmann::json stats_reply_to_json(const StatsSnapshot&);
// Decodes a `stats` reply. Unknown members are ignored here (unlike requests) so a newer
// dataplane may report more than this control process knows.
Result<StatsSnapshot> stats_reply_from_json(const nlohmann::json& j);

// {"ok":true,"reals":[{"service":<key>,"address":"10.0.0.2","port":80,"syn_timeouts":N,
// "resets":M},...]}: the dataplane's `passive-failures` reply (docs/api.md).
nlohmann::json passive_failures_reply_to_json(const std::vector<PassiveFailures>&);
// Decodes it; unknown members are ignored, as in stats replies.
Result<std::vector<PassiveFailures>> passive_failures_reply_from_json(const nlohmann::json& j);

}  // namespace dplb::model
