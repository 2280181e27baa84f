// Reading the members that several control-socket requests share (docs/api.md
// "Control socket requests"), with the same error wording everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "codec/json_reader.hpp"
#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::api {

// A reader over the whole request with `cmd` and `id` already accounted for.
model::ObjectReader request_reader(const nlohmann::json& request);

// The required member `name` holding a service key.
model::Result<config::ServiceKey> read_key_member(model::ObjectReader& r, std::string_view name = "service");

// "no service tcp 10.0.0.100:80", on member `service`.
model::Error no_such_service(const config::ServiceKey& key);

// For requests whose only member is an optional service key (list, zero, get-laddr): the
// key if given, after checking that the service exists.
model::Result<std::optional<config::ServiceKey>> read_optional_service(const config::Config& config,
                                                                      const nlohmann::json& request);
// For requests without members (clear, get-config, status).
model::Status read_no_members(const nlohmann::json& request);

}  // namespace dplb::api
