// start-sync-daemon, stop-sync-daemon: ipvsadm --start-daemon / --stop-daemon. The daemons
// are part of the configuration (journaled, in the state file, pushed to the dataplane as
// every change), so a restarted dplb-control starts them again (docs/ha.md "Configuration").
#include "codec/config_json.hpp"
#include "control/api/mutation_decoders.hpp"
#include "control/api/request_members.hpp"

namespace dplb::api::decoders {

using nlohmann::json;

model::Result<model::Change> start_sync_daemon(const model::ConfigEditor&, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("daemon", m)) return *e;
    auto d = model::sync_daemon_from_json(*m, "daemon");
    if (!d) return d.error();
    if (auto e = r.finish()) return *e;
    return model::Change{model::StartSyncDaemon{std::move(*d)}};
}

model::Result<model::Change> stop_sync_daemon(const model::ConfigEditor&, const json& request) {
    auto r = request_reader(request);
    const json* m = nullptr;
    if (auto e = r.required("state", m)) return *e;
    auto state = model::sync_state_from_json(*m, "state");
    if (!state) return state.error();
    if (auto e = r.finish()) return *e;
    return model::Change{model::StopSyncDaemon{*state}};
}

}  // namespace dplb::api::decoders
