#include "model/change.hpp"

#include "common/overloaded.hpp"

namespace dplb::model {

config::Service attributes_of(const config::Service& s) {
    config::Service out;
    out.key = s.key;
    out.scheduler = s.scheduler;
    out.sched_flags = s.sched_flags;
    out.mh_table_size = s.mh_table_size;
    out.persistence = s.persistence;
    out.timeouts = s.timeouts;
    out.sorry_server = s.sorry_server;
    out.sorry_active = s.sorry_active;
    out.expire_nodest_conn = s.expire_nodest_conn;
    return out;
}

bool is_runtime(const Change& change) {
    return std::holds_alternative<SetRealHealth>(change) || std::holds_alternative<SetSorryActive>(change);
}

Touched touched_by(const Batch& batch) {
    Touched t;
    for (const Change& change : batch.changes)
        std::visit(Overloaded{
                       [&](const AddService& c) { t.services.push_back(c.service.key); },
                       [&](const EditService& c) { t.services.push_back(c.service.key); },
                       [&](const DeleteService& c) { t.services.push_back(c.key); },
                       [&](const AddReal& c) { t.services.push_back(c.service); },
                       [&](const EditReal& c) { t.services.push_back(c.service); },
                       [&](const DeleteReal& c) { t.services.push_back(c.service); },
                       [&](const AddLocalAddress& c) { t.services.push_back(c.service); },
                       [&](const DeleteLocalAddress& c) { t.services.push_back(c.service); },
                       // The mark's service, if any, takes other packets: `port_groups` says so.
                       [&](const AddPortGroup&) { t.port_groups = true; },
                       [&](const DeletePortGroup&) { t.port_groups = true; },
                       [&](const SetTimeouts&) { t.timeouts = true; },
                       [&](const SetServiceTimeouts& c) { t.services.push_back(c.service); },
                       [&](const Clear&) { t.everything = true; },
                       [&](const ReplaceConfig&) { t.everything = true; },
                       [&](const SetRealHealth& c) { t.services.push_back(c.service); },
                       [&](const SetSorryActive& c) { t.services.push_back(c.service); },
                   },
                   change);
    return t;
}

const char* op_name(const Change& change) {
    static constexpr const char* names[] = {
        "add-service", "edit-service",  "delete-service",    "add-real",     "edit-real",
        "delete-real", "add-laddr",     "delete-laddr",      "add-port-group", "delete-port-group",
        "set-timeouts", "set-timeouts", "clear",             "replace-config", "set-real-health",
        "set-sorry-active",
    };
    static_assert(std::size(names) == std::variant_size_v<Change>);
    return names[change.index()];
}

}  // namespace dplb::model
