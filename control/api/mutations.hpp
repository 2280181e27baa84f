// The requests that change the configuration: each decodes into one typed change
// (model/change.hpp) that a model::ConfigEditor checks and applies in place, in time
// proportional to the change. No sockets, no files, no dataplane.
//
// Decoding checks the request's syntax and names the offending member (request-relative:
// "real_server.weight"); the editor checks the configuration rules with the same names.
//
// Threading: plain functions; `working` is only read.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "dplb/config.hpp"
#include "model/change.hpp"
#include "model/config_editor.hpp"

namespace dplb::api {

// add-service, edit-service, delete-service, clear, add-real, edit-real, delete-real,
// add-laddr, delete-laddr, add-port-group, delete-port-group, replace-config, set-timeouts,
// start-sync-daemon, stop-sync-daemon.
bool is_mutation(std::string_view cmd);

// The typed change a request asks for, decoded against `working` (for the members an edit
// leaves out). `request` is the whole request object (its `cmd` must be a mutation).
model::Result<model::Change> decode_change(const model::ConfigEditor& working, const nlohmann::json& request);

// Compatibility for tests and dplbadm: decode + apply on a copy, whole config out (O(n) copy).
model::Result<config::Config> apply_mutation(const config::Config& current, const nlohmann::json& request);

}  // namespace dplb::api
