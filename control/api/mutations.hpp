// The requests that change the configuration, as pure functions: the current configuration
// and one request in, the new configuration or the reason for refusing it out. No sockets,
// no files, no dataplane: the caller persists and pushes what comes out.
//
// Every handler validates the whole request before building anything, names the offending
// member on error, and never modifies `current` (replace-config is all or nothing because
// the new configuration is built aside and only returned when valid).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::api {

// add-service, edit-service, delete-service, clear, add-real, edit-real, delete-real,
// add-laddr, delete-laddr, add-port-group, delete-port-group, replace-config, set-timeouts.
bool is_mutation(std::string_view cmd);

// `request` is the whole request object (its `cmd` must be a mutation).
model::Result<config::Config> apply_mutation(const config::Config& current, const nlohmann::json& request);

// The request's handler alone, without the whole-configuration check that apply_mutation
// ends with: for applying many requests in a row (dplbadm -R) and validating once at the end.
// The caller must run model::validate_config on what it keeps.
model::Result<config::Config> apply_handler(config::Config current, const nlohmann::json& request);

}  // namespace dplb::api
