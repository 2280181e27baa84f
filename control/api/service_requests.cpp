// add-service, edit-service, delete-service, clear.
#include <algorithm>

#include "control/api/mutation_handlers.hpp"
#include "control/api/request_members.hpp"
#include "control/model/config_find.hpp"
#include "control/model/config_json.hpp"
#include "control/model/validate.hpp"

namespace dplb::api::handlers {

using model::Error;
using nlohmann::json;

model::Result<config::Config> add_service(config::Config c, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("service", m)) return *e;
    auto svc = model::service_from_json(*m, "service");
    if (!svc) return svc.error();
    if (auto e = r.finish()) return *e;
    if (model::find_service(c, svc->key))
        return Error{"service", "service " + model::describe(svc->key) + " already exists"};
    if (auto e = model::validate_service(*svc, "service")) return *e;
    c.services.push_back(std::move(*svc));
    return c;
}

model::Result<config::Config> edit_service(config::Config c, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("service", m)) return *e;
    model::ObjectReader sr(*m, "service");
    config::ServiceKey key;
    if (auto e = model::read_service_key(sr, key)) return *e;
    std::optional<config::Scheduler> scheduler;
    if (const json* s = sr.get("scheduler")) {
        auto sched = model::scheduler_from_json(*s, "service.scheduler");
        if (!sched) return sched.error();
        scheduler = *sched;
    }
    for (const char* list : {"real_servers", "local_addresses"})
        if (sr.get(list))
            return Error{sr.field(list), std::string(list) +
                                             " cannot be changed by edit-service (use the real server and "
                                             "local address requests)"};
    if (auto e = sr.finish()) return *e;
    if (auto e = r.finish()) return *e;
    config::Service* svc = model::find_service(c, key);
    if (!svc) return no_such_service(key);
    if (scheduler) {
        if (auto e = model::check_scheduler(*scheduler, "service.scheduler")) return *e;
        svc->scheduler = *scheduler;
    }
    return c;
}

model::Result<config::Config> delete_service(config::Config c, const json& request) {
    auto r = request_reader(request);
    auto key = read_key_member(r);
    if (!key) return key.error();
    if (auto e = r.finish()) return *e;
    auto it = std::find_if(c.services.begin(), c.services.end(),
                           [&](const config::Service& s) { return s.key == *key; });
    if (it == c.services.end()) return no_such_service(*key);
    c.services.erase(it);
    return c;
}

model::Result<config::Config> clear(config::Config c, const json& request) {
    if (auto e = read_no_members(request)) return *e;
    c.services.clear();
    return c;
}

}  // namespace dplb::api::handlers
