// replace-config, set-timeouts: requests on the configuration as a whole (or, for
// set-timeouts with a `service`, on one service's timeout overrides).
#include "codec/config_json.hpp"
#include "control/api/mutation_decoders.hpp"
#include "control/api/request_members.hpp"
#include "model/runtime_state.hpp"

namespace dplb::api::decoders {

using nlohmann::json;

model::Result<model::Change> replace_config(const model::ConfigEditor& working, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("config", m)) return *e;
    r.get("if_generation");  // checked by the controller, which knows the generation
    if (auto e = r.finish()) return *e;
    // Decoded and validated whole before it replaces anything: all or nothing.
    auto c = model::config_from_json(*m, "config");
    if (!c) return c.error();
    // Runtime health state is the health checker's, whatever the request says: the servers
    // that stay keep theirs (a dead one is not brought back by a restore), new ones start up.
    model::carry_runtime_state(*c, [&](const config::ServiceKey& k) { return working.find_service(k); });
    return model::Change{model::ReplaceConfig{std::move(*c)}};
}

model::Result<model::Change> set_timeouts(const model::ConfigEditor& working, const json& request) {
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
    // Decoded over the current values, so that absent members keep them.
    if (!key) {
        auto t = model::timeouts_from_json(*m, "timeouts", working.config().timeouts);
        if (!t) return t.error();
        return model::Change{model::SetTimeouts{*t}};
    }
    const config::Service* svc = working.find_service(*key);
    auto t = model::timeout_overrides_from_json(*m, "timeouts", svc ? svc->timeouts : config::TimeoutOverrides{});
    if (!t) return t.error();
    if (!svc) return no_such_service(*key);
    return model::Change{model::SetServiceTimeouts{*key, *t}};
}

}  // namespace dplb::api::decoders
