// `stats`: ipvsadm's counters per service and real server, summed over workers, minus the
// baselines of recycled ids.
#include "codec/stats_json.hpp"
#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/control_util.hpp"

namespace dplb::runtime {

using nlohmann::json;

namespace {

// Sums one id's ipvsadm counters over every worker; `pick` selects the per-worker array.
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

json ControlServer::stats() const {
    model::StatsSnapshot s;
    const Snapshot* snap = rt_.snapshot.load();  // the control thread is the only one that frees it
    if (snap) {
        s.generation = snap->generation;
        for (const ServiceSnap* svc : snap->service_list) {
            model::ServiceStats ss;
            ss.key = key_of(*svc);
            ss.stats = model::minus(service_totals(svc->id), service_baseline_[svc->id]);
            for (const auto& r : svc->reals) {
                model::RealServerStats rs;
                rs.address = Ip4{r.addr};
                rs.port = __builtin_bswap16(r.port);
                rs.stats = model::minus(real_totals(r.id), real_baseline_[r.id]);
                for (const auto& f : rt_.forwarders) {
                    const RealCounters& rc = f.load(std::memory_order_acquire)->real_counters()[r.id];
                    rs.active_conns += rc.active.get();
                    rs.inactive_conns += rc.inactive.get();
                }
                ss.reals.push_back(rs);
            }
            s.services.push_back(std::move(ss));
        }
    }
    json reply = model::stats_reply_to_json(s);
    // Persistence templates per real server (ipvsadm --persistent-conn), in the same order.
    if (snap && reply.contains("services"))
        for (size_t i = 0; i < snap->service_list.size() && i < reply["services"].size(); ++i) {
            const ServiceSnap& svc = *snap->service_list[i];
            json& reals = reply["services"][i]["real_servers"];
            for (size_t k = 0; k < svc.reals.size() && k < reals.size(); ++k) {
                uint64_t n = 0;
                for (const auto& f : rt_.forwarders)
                    n += f.load(std::memory_order_acquire)->real_counters()[svc.reals[k].id].persistent.get();
                reals[k]["persistent_conns"] = n;
            }
        }
    return reply;
}

}  // namespace dplb::runtime
