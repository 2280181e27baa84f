// Codec of the sync daemons (docs/api.md "Sync daemon"): ipvsadm --start-daemon's settings
// plus dplb's unicast peers. Ranges here are only what the C++ types hold; validate.hpp says
// what may be used (so a code-built configuration is refused with the same words).
#include "codec/config_json.hpp"
#include "codec/json_array.hpp"
#include "codec/json_reader.hpp"

namespace dplb::model {

using nlohmann::json;
namespace cfg = dplb::config;

Result<cfg::SyncState> sync_state_from_json(const json& j, const std::string& path) {
    std::string name;
    if (auto e = read_string(j, path, name)) return *e;
    auto s = cfg::parse_sync_state(name);
    if (!s) return Error{path, "unknown sync daemon state '" + name + "' (expected master or backup)"};
    return *s;
}

Result<cfg::SyncDaemon> sync_daemon_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::SyncDaemon d;
    const json* state = nullptr;
    if (auto e = r.required("state", state)) return *e;
    auto s = sync_state_from_json(*state, r.field("state"));
    if (!s) return s.error();
    d.state = *s;
    if (auto e = r.required_string("mcast_interface", d.mcast_interface)) return *e;
    uint64_t v = d.syncid;
    if (auto e = r.optional_uint("syncid", 0, 255, v)) return *e;
    d.syncid = uint8_t(v);
    v = d.sync_maxlen;
    if (auto e = r.optional_uint("sync_maxlen", 0, 65535, v)) return *e;
    d.sync_maxlen = uint16_t(v);
    if (const json* g = r.get("mcast_group")) {
        auto a = address_from_json(*g, r.field("mcast_group"));
        if (!a) return a.error();
        d.mcast_group = *a;
    }
    v = d.mcast_port;
    if (auto e = r.optional_uint("mcast_port", 0, 65535, v)) return *e;
    d.mcast_port = uint16_t(v);
    v = d.mcast_ttl;
    if (auto e = r.optional_uint("mcast_ttl", 0, 255, v)) return *e;
    d.mcast_ttl = uint8_t(v);
    if (auto e = read_array<Ip4>(r, "peers", d.peers, address_from_json)) return *e;
    if (auto e = r.finish()) return *e;
    return d;
}

json to_json(const cfg::SyncDaemon& d) {
    json peers = json::array();
    for (Ip4 a : d.peers) peers.push_back(a.str());
    return json{{"state", cfg::to_string(d.state)},
                {"mcast_interface", d.mcast_interface},
                {"syncid", d.syncid},
                {"sync_maxlen", d.sync_maxlen},
                {"mcast_group", d.mcast_group.str()},
                {"mcast_port", d.mcast_port},
                {"mcast_ttl", d.mcast_ttl},
                {"peers", std::move(peers)}};
}

}  // namespace dplb::model
