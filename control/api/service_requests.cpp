// add-service, edit-service, delete-service, clear.
#include <algorithm>

#include "control/api/mutation_handlers.hpp"
#include "control/api/request_members.hpp"
#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "model/port_matches.hpp"
#include "model/sched_flags.hpp"
#include "model/validate.hpp"

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
    if (auto ref = model::find_covering(c, svc->key))
        return Error{"service", "service " + model::describe(svc->key) + " is also matched by " +
                                    model::describe_match(c, *ref) + "; a packet can belong to one service only"};
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
    config::Service* svc = model::find_service(c, key);
    // Decoded over the existing service (or a default one, to report syntax errors first).
    config::Service edited = svc ? *svc : config::Service{};
    model::AttributesGiven given;
    if (auto e = model::read_service_attributes(sr, edited, &given)) return *e;
    for (const char* list : {"real_servers", "local_addresses"})
        if (sr.get(list))
            return Error{sr.field(list), std::string(list) +
                                             " cannot be changed by edit-service (use the real server and "
                                             "local address requests)"};
    if (auto e = sr.finish()) return *e;
    if (auto e = r.finish()) return *e;
    if (!svc) return no_such_service(key);
    // A new scheduler drops the options of the old one that it cannot use.
    if (given.scheduler && !given.sched_flags) edited.sched_flags &= model::sched_flags_of(edited.scheduler);
    if (given.scheduler && !given.mh_table_size && edited.scheduler != config::Scheduler::mh)
        edited.mh_table_size = config::Service{}.mh_table_size;
    if (auto e = model::validate_service(edited, "service")) return *e;
    *svc = std::move(edited);
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
    // Port groups go too: -S saves them with the services, so `-C` then `-R` restores both.
    c.services.clear();
    c.port_groups.clear();
    return c;
}

}  // namespace dplb::api::handlers
