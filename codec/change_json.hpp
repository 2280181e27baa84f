// JSON form of typed changes (model/change.hpp): the control socket's request form, with
// "op" in place of "cmd" ({"op":"edit-real","service":{...},"real_server":{...}}). Used by
// the dataplane link's `apply-batch` and by dplb-control's journal records.
//
// Decoding checks syntax and ranges only; the configuration rules are ConfigEditor's.
//
// Runtime health state (config_json.hpp) is written with RuntimeState::include, the form the
// dataplane link pushes. RuntimeState::omit is the journal's: no runtime member, and a
// Batch leaves its runtime changes (model::is_runtime) out altogether.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "codec/config_json.hpp"
#include "common/result.hpp"
#include "model/change.hpp"

namespace dplb::model {

nlohmann::json to_json(const Change&, RuntimeState = RuntimeState::include);
Result<Change> change_from_json(const nlohmann::json& j, const std::string& path);

// [change, ...]
nlohmann::json to_json(const Batch&, RuntimeState = RuntimeState::include);
Result<Batch> batch_from_json(const nlohmann::json& j, const std::string& path = "changes");

}  // namespace dplb::model
