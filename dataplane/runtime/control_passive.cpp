// `passive-failures`: what the workers' passive checks saw of each real server (SYN timeouts,
// resets before ESTABLISHED), summed over workers, minus the baselines of recycled ids, named
// through the snapshot (runtime/passive_failures.hpp).
#include "codec/stats_json.hpp"
#include "dataplane/runtime/control_server.hpp"

namespace dplb::runtime {

using nlohmann::json;

PassiveCounts ControlServer::passive_sum(uint32_t id) const {
    PassiveCounts c;
    for (const auto& f : rt_.forwarders) {
        const RealCounters& rc = f.load(std::memory_order_acquire)->real_counters()[id];
        c.syn_timeouts += rc.syn_timeouts.get();
        c.resets += rc.resets_before_established.get();
    }
    return c;
}

PassiveCounts ControlServer::passive_totals(uint32_t id) const {
    PassiveCounts c = passive_sum(id);
    const PassiveCounts& base = passive_baseline_[id];
    // A counter below its baseline cannot happen while the dataplane runs; clamp anyway.
    c.syn_timeouts = c.syn_timeouts >= base.syn_timeouts ? c.syn_timeouts - base.syn_timeouts : 0;
    c.resets = c.resets >= base.resets ? c.resets - base.resets : 0;
    return c;
}

json ControlServer::passive_failures() const {
    const Snapshot* snap = rt_.snapshot.load();  // the control thread is the only one that frees it
    if (!snap) return model::passive_failures_reply_to_json({});
    return model::passive_failures_reply_to_json(
        collect_passive_failures(*snap, departed_, [this](uint32_t id) { return passive_totals(id); }));
}

}  // namespace dplb::runtime
