// add-service, edit-service, delete-service, clear.
#include "codec/config_json.hpp"
#include "control/api/mutation_decoders.hpp"
#include "control/api/request_members.hpp"
#include "model/runtime_state.hpp"
#include "model/sched_flags.hpp"

namespace dplb::api::decoders {

using model::Error;
using nlohmann::json;

model::Result<model::Change> add_service(const model::ConfigEditor&, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("service", m)) return *e;
    auto svc = model::service_from_json(*m, "service");
    if (!svc) return svc.error();
    if (auto e = r.finish()) return *e;
    // Runtime health state is the health checker's: a new service starts up, whatever was sent.
    model::clear_runtime_state(*svc);
    return model::Change{model::AddService{std::move(*svc)}};
}

model::Result<model::Change> edit_service(const model::ConfigEditor& working, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("service", m)) return *e;
    model::ObjectReader sr(*m, "service");
    config::ServiceKey key;
    if (auto e = model::read_service_key(sr, key)) return *e;
    const config::Service* svc = working.find_service(key);
    // Decoded over the existing service's attributes (or a default service, to report syntax
    // errors first); its lists are not part of the change.
    config::Service edited = svc ? model::attributes_of(*svc) : config::Service{};
    edited.key = key;
    model::AttributesGiven given;
    if (auto e = model::read_service_attributes(sr, edited, &given)) return *e;
    // Runtime state (get-config shows it) is the health checker's: accepted and ignored, the
    // current value stays, unless the sorry server it activates is gone.
    sr.get("sorry_active");
    edited.sorry_active = svc && svc->sorry_active && edited.sorry_server.has_value();
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
    return model::Change{model::EditService{std::move(edited)}};
}

model::Result<model::Change> delete_service(const model::ConfigEditor&, const json& request) {
    auto r = request_reader(request);
    auto key = read_key_member(r);
    if (!key) return key.error();
    if (auto e = r.finish()) return *e;
    return model::Change{model::DeleteService{*key}};
}

model::Result<model::Change> clear(const model::ConfigEditor&, const json& request) {
    if (auto e = read_no_members(request)) return *e;
    return model::Change{model::Clear{}};
}

}  // namespace dplb::api::decoders
