#include "control/api/queries.hpp"

#include <map>

#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "model/scheduling_set.hpp"
#include "model/service_id.hpp"

namespace dplb::api {

using nlohmann::json;

namespace {

const model::RealServerStats* find_real_stats(const model::ServiceStats& s, Ip4 address, uint16_t port) {
    for (const auto& r : s.reals)
        if (r.address == address && r.port == port) return &r;
    return nullptr;
}

// Connection counts, counters and rates of the server at address:port: the dataplane reports
// every configured server, in the table or not (0 when it has not, e.g. while disconnected).
void add_server_stats(json& j, const model::ServiceStats* ss, Ip4 address, uint16_t port) {
    const model::RealServerStats* rst = ss ? find_real_stats(*ss, address, port) : nullptr;
    j["active_conns"] = rst ? rst->active_conns : 0;
    j["inactive_conns"] = rst ? rst->inactive_conns : 0;
    j["persistent_conns"] = rst ? rst->persistent_conns : 0;
    j["stats"] = model::to_json(rst ? rst->stats : model::Counters{});
    j["rates"] = model::to_json(rst ? rst->rates : model::Rates{});
}

// Whether the server is in the service's scheduling set and at which weight: what ipvsadm
// would list after keepalived's changes (model/scheduling_set.hpp).
void add_table_place(json& j, const model::ScheduledServer* in_set) {
    j["in_table"] = in_set != nullptr;
    j["table_weight"] = in_set ? in_set->weight : 0;
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
    // The set holds the real servers in configuration order, then the sorry server.
    const auto set = model::scheduling_set(svc);
    std::size_t next = 0;
    json reals = json::array();
    for (const auto& rs : svc.reals) {
        json jr = model::to_json(rs);
        jr["health"] = config::to_string(rs.health);  // explicit here: listings show it
        const bool placed = next < set.size() && set[next].real == &rs;
        add_table_place(jr, placed ? &set[next++] : nullptr);
        add_server_stats(jr, ss, rs.address, rs.port);
        reals.push_back(std::move(jr));
    }
    js["real_servers"] = std::move(reals);
    if (svc.sorry_server) {
        json& jsorry = js["sorry_server"];
        // Listed like a real server (keepalived's sorry server is an IPVS destination).
        jsorry["weight"] = config::sorry_server_weight;
        jsorry["upper_threshold"] = 0u;
        jsorry["lower_threshold"] = 0u;
        jsorry["active"] = svc.sorry_active;
        add_table_place(jsorry, next < set.size() && set[next].is_sorry() ? &set[next] : nullptr);
        add_server_stats(jsorry, ss, svc.sorry_server->address, svc.sorry_server->port);
    }
    js["sorry_active"] = svc.sorry_active;
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

json get_sync_daemons_reply(const config::Config& c) {
    json daemons = json::array();
    for (const auto& d : c.sync_daemons) daemons.push_back(model::to_json(d));
    return json{{"ok", true}, {"sync_daemons", std::move(daemons)}};
}

}  // namespace dplb::api
