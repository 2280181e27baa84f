// `stats`: ipvsadm's counters per service and real server, summed over workers, minus the
// baselines of recycled ids. Every configured server is reported, in the scheduling set or
// on standby (ServiceSnap::standby: removed by the health checker, replaced by the sorry
// server): it still counts its remaining connections, and its rates go on being estimated so
// that one coming back shows no burst.
#include <chrono>
#include <optional>

#include "codec/config_json.hpp"
#include "codec/counters_text.hpp"
#include "codec/stats_json.hpp"
#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/control_util.hpp"

namespace dplb::runtime {

using nlohmann::json;

namespace {

// Sums one id's ipvsadm counters over every worker; `pick` selects the per-worker array.
// Every server of the service that has an id: the scheduling set, then the standby ones.
template <class F>
void for_each_server(const ServiceSnap& svc, F&& f) {
    for (const auto& r : svc.reals) f(r);
    for (const auto& r : svc.standby) f(r);
}

template <class Pick>
model::Counters sum_over_workers(const Runtime& rt, uint32_t id, Pick pick) {
    model::Counters c;
    for (const auto& f : rt.forwarders) {
        const auto& x = pick(*f.load(std::memory_order_acquire))[id];
        c.conns += x.conns.get();
        c.inpkts += x.in_packets.get();
        c.outpkts += x.out_packets.get();
        c.inbytes += x.in_bytes.get();
        c.outbytes += x.out_bytes.get();
    }
    return c;
}

}  // namespace

model::Counters ControlServer::real_totals(uint32_t id) const {
    return sum_over_workers(rt_, id, [](const fwd::Forwarder& f) -> const auto& { return f.real_counters(); });
}

model::Counters ControlServer::service_totals(uint32_t id) const {
    return sum_over_workers(rt_, id, [](const fwd::Forwarder& f) -> const auto& { return f.service_counters(); });
}

json ControlServer::stats() const { return model::stats_reply_to_json(stats_snapshot()); }

// /metrics' scrape: the same counters, written as text without a JSON tree (codec/counters_text.hpp).
std::string ControlServer::counters_text() const { return model::counters_reply_text(stats_snapshot()); }

model::StatsSnapshot ControlServer::stats_snapshot() const {
    model::StatsSnapshot s;
    const Snapshot* snap = rt_.snapshot.load();  // the control thread is the only one that frees it
    if (snap) {
        s.generation = snap->generation;
        s.services.reserve(snap->service_list.size());
        for (const ServiceSnap* svc : snap->service_list) {
            model::ServiceStats ss;
            ss.key = key_of(*svc);
            ss.stats = model::minus(service_totals(svc->id), service_baseline_[svc->id]);
            ss.rates = rates_.service_rates(svc->id);
            ss.reals.reserve(svc->reals.size() + svc->standby.size());
            for_each_server(*svc, [&](const RealSnap& r) {
                model::RealServerStats rs;
                rs.address = Ip4{r.addr};
                rs.port = __builtin_bswap16(r.port);
                rs.stats = model::minus(real_totals(r.id), real_baseline_[r.id]);
                rs.rates = rates_.real_rates(r.id);
                for (const auto& f : rt_.forwarders) {
                    const RealCounters& rc = f.load(std::memory_order_acquire)->real_counters()[r.id];
                    rs.active_conns += rc.active.get();
                    rs.inactive_conns += rc.inactive.get();
                    rs.persistent_conns += rc.persistent.get();  // templates (ipvsadm --persistent-conn)
                }
                const PassiveCounts pc = passive_totals(r.id);
                rs.syn_timeouts = pc.syn_timeouts;
                rs.resets = pc.resets;
                ss.reals.push_back(rs);
            });
            s.services.push_back(std::move(ss));
        }
    }
    return s;
}

void ControlServer::estimate_rates_if_due() {
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (now < next_estimate_) return;
    next_estimate_ = now + 2.0;  // IPVS's estimation interval
    const Snapshot* snap = rt_.snapshot.load();
    if (!snap) return;
    rates_.begin_round(now);
    for (const ServiceSnap* svc : snap->service_list) {
        rates_.service(svc->id, model::minus(service_totals(svc->id), service_baseline_[svc->id]));
        for_each_server(*svc, [&](const RealSnap& r) {
            rates_.real(r.id, model::minus(real_totals(r.id), real_baseline_[r.id]));
        });
    }
}

// {"cmd":"zero-rates"} or with "service": <key> (ipvsadm -Z): the estimates restart from zero.
json ControlServer::zero_rates(const json& req) {
    const Snapshot* snap = rt_.snapshot.load();
    std::optional<config::ServiceKey> only;
    if (auto it = req.find("service"); it != req.end()) {
        auto k = model::service_key_from_json(*it, "service");
        if (!k) return error_reply(k.error());
        only = *k;
    }
    if (snap)
        for (const ServiceSnap* svc : snap->service_list) {
            if (only && !(key_of(*svc) == *only)) continue;
            rates_.reset_service(svc->id, model::minus(service_totals(svc->id), service_baseline_[svc->id]));
            for_each_server(*svc, [&](const RealSnap& r) {
                rates_.reset_real(r.id, model::minus(real_totals(r.id), real_baseline_[r.id]));
            });
        }
    return {{"ok", true}};
}

}  // namespace dplb::runtime
