// JSON codec of the dataplane's `connections` reply (docs/api.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "model/connections.hpp"

namespace dplb::model {

Result<Endpoint> endpoint_from_json(const nlohmann::json& j, const std::string& path);

nlohmann::json to_json(const ConnectionEntry&);
// {"ok":true,"truncated":bool,"connections":[...]}: what the dataplane sends.
nlohmann::json connections_reply_to_json(const ConnectionList&);
// Decodes a `connections` reply. Unknown members are ignored (as in stats replies) so a newer
// dataplane may report more.
Result<ConnectionList> connections_reply_from_json(const nlohmann::json& j);

}  // namespace dplb::model
