// One decoder per configuration-changing request; dispatched by mutations.cpp.
// Each reads and checks the request's syntax and returns the typed change it asks for;
// `working` is only read, for the members an edit leaves out (the decoder merges them so
// that the change is complete). The configuration rules are ConfigEditor's.
#pragma once

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "model/change.hpp"
#include "model/config_editor.hpp"

namespace dplb::api::decoders {

using Decoder = model::Result<model::Change> (*)(const model::ConfigEditor&, const nlohmann::json&);

model::Result<model::Change> add_service(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> edit_service(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> delete_service(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> clear(const model::ConfigEditor&, const nlohmann::json&);

model::Result<model::Change> add_real(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> edit_real(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> delete_real(const model::ConfigEditor&, const nlohmann::json&);

model::Result<model::Change> add_laddr(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> delete_laddr(const model::ConfigEditor&, const nlohmann::json&);

model::Result<model::Change> add_port_group(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> delete_port_group(const model::ConfigEditor&, const nlohmann::json&);

model::Result<model::Change> replace_config(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> set_timeouts(const model::ConfigEditor&, const nlohmann::json&);

model::Result<model::Change> start_sync_daemon(const model::ConfigEditor&, const nlohmann::json&);
model::Result<model::Change> stop_sync_daemon(const model::ConfigEditor&, const nlohmann::json&);

}  // namespace dplb::api::decoders
