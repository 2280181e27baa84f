// replace-config, set-timeouts: requests on the configuration as a whole (or, for
// set-timeouts with a `service`, on one service's timeout overrides).
#include "control/api/mutation_handlers.hpp"
#include "control/api/request_members.hpp"
#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "model/validate.hpp"

namespace dplb::api::handlers {

using nlohmann::json;

model::Result<config::Config> replace_config(config::Config, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("config", m)) return *e;
    r.get("if_generation");  // checked by the controller, which knows the generation
    if (auto e = r.finish()) return *e;
    // Decoded and validated whole before it replaces anything: all or nothing.
    return model::config_from_json(*m, "config");
}

model::Result<config::Config> set_timeouts(config::Config c, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("timeouts", m)) return *e;
    std::optional<config::ServiceKey> key;
    if (const json* s = r.get("service")) {
        auto k = model::service_key_from_json(*s, "service");
        if (!k) return k.error();
        key = *k;
    }
    if (auto e = r.finish()) return *e;
    if (!key) {
        auto t = model::timeouts_from_json(*m, "timeouts", c.timeouts);
        if (!t) return t.error();
        if (auto e = model::validate_timeouts(*t, "timeouts")) return *e;
        c.timeouts = *t;
        return c;
    }
    config::Service* svc = model::find_service(c, *key);
    auto t = model::timeout_overrides_from_json(*m, "timeouts", svc ? svc->timeouts : config::TimeoutOverrides{});
    if (!t) return t.error();
    if (!svc) return no_such_service(*key);
    if (auto e = model::validate_timeout_overrides(*t, "timeouts")) return *e;
    svc->timeouts = *t;
    return c;
}

}  // namespace dplb::api::handlers
