#include "model/change.hpp"

#include "common/overloaded.hpp"

namespace dplb::model {

void set_attributes(config::Service& to, const config::Service& from) {
    to.scheduler = from.scheduler;
    to.sched_flags = from.sched_flags;
    to.mh_table_size = from.mh_table_size;
    to.persistence = from.persistence;
    to.timeouts = from.timeouts;
    to.sorry_server = from.sorry_server;
    to.sorry_active = from.sorry_active;
    to.expire_nodest_conn = from.expire_nodest_conn;
}

config::Service attributes_of(const config::Service& s) {
    config::Service out;
    out.key = s.key;
    set_attributes(out, s);
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
                       [&](const StartSyncDaemon&) { t.sync_daemons = true; },
                       [&](const StopSyncDaemon&) { t.sync_daemons = true; },
                   },
                   change);
    return t;
}

const char* op_name(const Change& change) {
    static constexpr const char* names[] = {
        "add-service", "edit-service",  "delete-service",    "add-real",     "edit-real",
        "delete-real", "add-laddr",     "delete-laddr",      "add-port-group", "delete-port-group",
        "set-timeouts", "set-timeouts", "clear",             "replace-config", "set-real-health",
        "set-sorry-active", "start-sync-daemon", "stop-sync-daemon",
    };
    static_assert(std::size(names) == std::variant_size_v<Change>);
    return names[change.index()];
}

}  // namespace dplb::model
