#include "dataplane/runtime/passive_failures.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "dataplane/runtime/control_util.hpp"

namespace dplb::runtime {

void DepartedReals::update(const SnapshotBuilder& b) {
    for (uint32_t id : b.recycled_real_ids()) by_id_.erase(id);
    for (const auto& r : b.retired_reals()) by_id_[r.id] = r;
}

namespace {

// (service, address, port) as one ordered key.
using Name = std::tuple<uint32_t, uint8_t, uint32_t, uint16_t, uint32_t, uint16_t>;
Name name_of(const config::ServiceKey& k, uint32_t addr_be, uint16_t port_be) {
    return {k.fwmark, uint8_t(k.protocol), k.address.be, k.port, addr_be, port_be};
}

}  // namespace

std::vector<model::PassiveFailures> collect_passive_failures(const Snapshot& snap, const DepartedReals& departed,
                                                             const std::function<PassiveCounts(uint32_t)>& counts) {
    std::vector<model::PassiveFailures> out;
    std::map<Name, size_t> index;  // name -> position in `out`, live servers and merged ones
    auto add = [&](const config::ServiceKey& key, uint32_t addr_be, uint16_t port_be, const PassiveCounts& c,
                   bool live) {
        Name n = name_of(key, addr_be, port_be);
        if (auto it = index.find(n); it != index.end()) {
            out[it->second].syn_timeouts += c.syn_timeouts;
            out[it->second].resets += c.resets;
            return;
        }
        if (!live && !c.any()) return;
        index.emplace(n, out.size());
        out.push_back(model::PassiveFailures{key, Ip4{addr_be}, __builtin_bswap16(port_be), c.syn_timeouts, c.resets});
    };
    for (const ServiceSnap* svc : snap.service_list) {
        const config::ServiceKey key = key_of(*svc);
        for (const RealSnap& r : svc->reals) add(key, r.addr, r.port, counts(r.id), true);
        // Servers taken out by the health checks keep their ids and counts: reported too, so
        // that dplb-control's baseline follows them while they are out.
        for (const RealSnap& r : svc->standby) add(key, r.addr, r.port, counts(r.id), true);
    }
    std::vector<uint32_t> ids;
    ids.reserve(departed.by_id().size());
    for (const auto& [id, r] : departed.by_id()) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (uint32_t id : ids) {
        const auto& r = departed.by_id().at(id);
        add(r.service, r.addr, r.port, counts(id), false);
    }
    std::erase_if(out, [](const model::PassiveFailures& f) { return !f.syn_timeouts && !f.resets; });
    return out;
}

}  // namespace dplb::runtime
