// One function per configuration-changing request; dispatched by mutations.cpp.
// Each takes a copy of the configuration to change and the whole request.
#pragma once

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::api::handlers {

using Handler = model::Result<config::Config> (*)(config::Config, const nlohmann::json&);

model::Result<config::Config> add_service(config::Config, const nlohmann::json&);
model::Result<config::Config> edit_service(config::Config, const nlohmann::json&);
model::Result<config::Config> delete_service(config::Config, const nlohmann::json&);
model::Result<config::Config> clear(config::Config, const nlohmann::json&);

model::Result<config::Config> add_real(config::Config, const nlohmann::json&);
model::Result<config::Config> edit_real(config::Config, const nlohmann::json&);
model::Result<config::Config> delete_real(config::Config, const nlohmann::json&);

model::Result<config::Config> add_laddr(config::Config, const nlohmann::json&);
model::Result<config::Config> delete_laddr(config::Config, const nlohmann::json&);

model::Result<config::Config> add_port_group(config::Config, const nlohmann::json&);
model::Result<config::Config> delete_port_group(config::Config, const nlohmann::json&);

model::Result<config::Config> replace_config(config::Config, const nlohmann::json&);
model::Result<config::Config> set_timeouts(config::Config, const nlohmann::json&);

}  // namespace dplb::api::handlers
