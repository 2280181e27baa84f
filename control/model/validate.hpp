// Semantic rules of a configuration (docs/api.md "Objects"), beyond what the JSON codec
// checks: usable addresses, what the dataplane supports, uniqueness, FULLNAT needing a
// local address. Every function names the offending member with a path under `path`.
//
// dplb-control runs validate_config on every configuration it is about to accept, and the
// codec runs it on every decoded configuration, so an invalid one never reaches the state
// file or the dataplane.
#pragma once

#include <cstdint>
#include <string>

#include "control/model/result.hpp"
#include "dplb/config.hpp"

namespace dplb::model {

inline constexpr uint32_t min_timeout = 1;
// 23 days: the dataplane keeps deadlines in a wrapping 32-bit millisecond clock, whose
// comparisons hold within 2^31 ms (~24.8 days).
inline constexpr uint32_t max_timeout = 2000000;

// A VIP, RIP or LIP: not 0.0.0.0, not 255.255.255.255, not multicast.
Status check_unicast(Ip4 address, const std::string& field);
Status check_scheduler(config::Scheduler, const std::string& field);
Status check_forward(config::ForwardMethod, const std::string& field);

Status validate_timeouts(const config::Timeouts&, const std::string& path);
Status validate_real_server(const config::RealServer&, const std::string& path);
// Key, scheduler, every real server and local address, duplicates inside the service, and
// "fullnat needs a local address".
Status validate_service(const config::Service&, const std::string& path);
// Everything above for every service, plus no two services with the same key.
Status validate_config(const config::Config&, const std::string& path = "config");

}  // namespace dplb::model
