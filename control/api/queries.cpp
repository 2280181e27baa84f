#include "control/api/queries.hpp"

#include <map>
#include <tuple>

#include "control/model/config_json.hpp"

namespace dplb::api {

using nlohmann::json;

namespace {

using ServiceId = std::tuple<uint8_t, uint32_t, uint16_t>;
ServiceId id(const config::ServiceKey& k) { return {uint8_t(k.protocol), k.address.host(), k.port}; }

const model::RealServerStats* find_real_stats(const model::ServiceStats& s, const config::RealServer& rs) {
    for (const auto& r : s.reals)
        if (r.address == rs.address && r.port == rs.port) return &r;
    return nullptr;
}

json laddrs_json(const config::Service& s) {
    json out = json::array();
    for (Ip4 a : s.local_addresses) out.push_back(a.str());
    return out;
}

}  // namespace

json list_reply(const config::Config& c, const std::optional<config::ServiceKey>& only,
                const model::StatsSnapshot* stats) {
    std::map<ServiceId, const model::ServiceStats*> by_key;  // thousands of services: no linear scans
    if (stats)
        for (const auto& s : stats->services) by_key.emplace(id(s.key), &s);
    json services = json::array();
    for (const auto& svc : c.services) {
        if (only && !(svc.key == *only)) continue;
        auto it = by_key.find(id(svc.key));
        const model::ServiceStats* ss = it == by_key.end() ? nullptr : it->second;
        json js = model::key_to_json(svc.key);
        js["scheduler"] = config::to_string(svc.scheduler);
        js["local_addresses"] = laddrs_json(svc);
        js["stats"] = model::to_json(ss ? ss->stats : model::Counters{});
        json reals = json::array();
        for (const auto& rs : svc.reals) {
            const model::RealServerStats* rst = ss ? find_real_stats(*ss, rs) : nullptr;
            json jr = model::to_json(rs);
            jr["active_conns"] = rst ? rst->active_conns : 0;
            jr["inactive_conns"] = rst ? rst->inactive_conns : 0;
            jr["stats"] = model::to_json(rst ? rst->stats : model::Counters{});
            reals.push_back(std::move(jr));
        }
        js["real_servers"] = std::move(reals);
        services.push_back(std::move(js));
    }
    return json{{"ok", true}, {"dataplane", stats ? "connected" : "disconnected"}, {"services", std::move(services)}};
}

json get_laddr_reply(const config::Config& c, const std::optional<config::ServiceKey>& only) {
    json services = json::array();
    for (const auto& svc : c.services) {
        if (only && !(svc.key == *only)) continue;
        json js = model::key_to_json(svc.key);
        js["local_addresses"] = laddrs_json(svc);
        services.push_back(std::move(js));
    }
    return json{{"ok", true}, {"services", std::move(services)}};
}

json get_config_reply(const config::Config& c) { return json{{"ok", true}, {"config", model::to_json(c)}}; }

}  // namespace dplb::api
