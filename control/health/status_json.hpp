// The health engine's state as the `health` request answers it (docs/api.md).
//
// Threading: pure function.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "control/health/health_engine.hpp"

namespace dplb::health {

// `now` turns the checkers' time points into "since_seconds" / "next_in_seconds".
nlohmann::json to_json(const std::vector<ServiceStatus>& services, Clock::time_point now);

const char* to_string(RealState);  // "up", "removed", "inhibited"

}  // namespace dplb::health
