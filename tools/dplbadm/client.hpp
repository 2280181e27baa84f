// One request/reply exchange with dplb-control over its socket.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dplb::dplbadm {

// The reply object (whatever its "ok"), or why there is none.
model::Result<nlohmann::json> call_control(const std::string& socket_path, const nlohmann::json& request);

}  // namespace dplb::dplbadm
