#include "control/api/queries.hpp"

#include <map>

#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "model/service_id.hpp"

namespace dplb::api {

using nlohmann::json;

namespace {

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

json service_entry(const config::Service& svc, const model::ServiceStats* ss) {
    json js = model::to_json(svc);
    js["stats"] = model::to_json(ss ? ss->stats : model::Counters{});
    js["rates"] = model::to_json(ss ? ss->rates : model::Rates{});
    json reals = json::array();
    for (const auto& rs : svc.reals) {
        const model::RealServerStats* rst = ss ? find_real_stats(*ss, rs) : nullptr;
        json jr = model::to_json(rs);
        jr["active_conns"] = rst ? rst->active_conns : 0;
        jr["inactive_conns"] = rst ? rst->inactive_conns : 0;
        jr["persistent_conns"] = rst ? rst->persistent_conns : 0;
        jr["stats"] = model::to_json(rst ? rst->stats : model::Counters{});
        jr["rates"] = model::to_json(rst ? rst->rates : model::Rates{});
        reals.push_back(std::move(jr));
    }
    js["real_servers"] = std::move(reals);
    return js;
}

}  // namespace

json list_reply(const config::Config& c, const std::optional<config::ServiceKey>& only,
                const model::StatsSnapshot* stats) {
    std::map<model::ServiceId, const model::ServiceStats*> by_key;  // thousands of services: no linear scans
    if (stats)
        for (const auto& s : stats->services) by_key.emplace(model::service_id(s.key), &s);
    json services = json::array();
    for (const auto& svc : c.services) {
        if (only && !(svc.key == *only)) continue;
        auto it = by_key.find(model::service_id(svc.key));
        services.push_back(service_entry(svc, it == by_key.end() ? nullptr : it->second));
    }
    json groups = json::array();
    for (const auto& g : c.port_groups)
        if (!only || only->fwmark == g.mark) groups.push_back(model::to_json(g));
    return json{{"ok", true},
                {"dataplane", stats ? "connected" : "disconnected"},
                {"services", std::move(services)},
                {"port_groups", std::move(groups)}};
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

json get_port_groups_reply(const config::Config& c, std::optional<uint32_t> mark) {
    json groups = json::array();
    for (const auto& g : c.port_groups)
        if (!mark || g.mark == *mark) groups.push_back(model::to_json(g));
    return json{{"ok", true}, {"port_groups", std::move(groups)}};
}

json get_config_reply(const config::Config& c, uint64_t generation) {
    return json{{"ok", true}, {"generation", generation}, {"config", model::to_json(c)}};
}

}  // namespace dplb::api
