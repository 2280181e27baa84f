// replace-config, set-timeouts: requests on the configuration as a whole.
#include "control/api/mutation_handlers.hpp"
#include "control/api/request_members.hpp"
#include "control/model/config_json.hpp"
#include "control/model/validate.hpp"

namespace dplb::api::handlers {

using nlohmann::json;

model::Result<config::Config> replace_config(config::Config, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("config", m)) return *e;
    if (auto e = r.finish()) return *e;
    // Decoded and validated whole before it replaces anything: all or nothing.
    return model::config_from_json(*m, "config");
}

model::Result<config::Config> set_timeouts(config::Config c, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("timeouts", m)) return *e;
    if (auto e = r.finish()) return *e;
    auto t = model::timeouts_from_json(*m, "timeouts", c.timeouts);
    if (!t) return t.error();
    if (auto e = model::validate_timeouts(*t, "timeouts")) return *e;
    c.timeouts = *t;
    return c;
}

}  // namespace dplb::api::handlers
