#include "control/api/connections.hpp"

#include "control/api/request_members.hpp"
#include "model/config_find.hpp"
#include "codec/config_json.hpp"

namespace dplb::api {

using nlohmann::json;

model::Result<ConnectionsQuery> read_connections_query(const config::Config& config, const json& request) {
    auto r = request_reader(request);
    ConnectionsQuery q;
    if (const json* s = r.get("service")) {
        auto k = model::service_key_from_json(*s, "service");
        if (!k) return k.error();
        q.service = *k;
    }
    uint64_t limit = q.limit;
    if (auto e = r.optional_uint("limit", 1, max_connection_limit, limit)) return *e;
    q.limit = std::size_t(limit);
    if (auto e = r.finish()) return *e;
    if (q.service && !model::find_service(config, *q.service)) return no_such_service(*q.service);
    return q;
}

json dataplane_connections_request(const ConnectionsQuery& q) {
    return json{{"cmd", "connections"}, {"limit", q.service ? max_connection_limit : q.limit}};
}

ServiceMatcher::ServiceMatcher(const config::ServiceKey& key, const config::Config& config) : key_(key) {
    if (key.is_fwmark() || key.port != 0) return;
    for (const auto& s : config.services)
        if (!s.key.is_fwmark() && s.key.port != 0 && s.key.address == key.address)
            taken_.emplace(s.key.protocol, s.key.port);
}

bool ServiceMatcher::operator()(const model::ConnectionEntry& c) const {
    if (key_.is_fwmark()) return c.fwmark == key_.fwmark;
    if (c.fwmark || !c.virtual_ || c.virtual_->address != key_.address) return false;
    bool template_of_any_protocol = c.protocol == "ip";
    if (!template_of_any_protocol && c.protocol != config::to_string(key_.protocol)) return false;
    if (key_.port != 0) return c.virtual_->port == key_.port;
    // A port-0 service has what the address's other services do not take.
    if (template_of_any_protocol || c.virtual_->port == 0) return true;
    return !taken_.contains({key_.protocol, c.virtual_->port});
}

json connections_reply(const model::ConnectionList& all, const config::Config& config, const ConnectionsQuery& q) {
    json entries = json::array();
    bool truncated = all.truncated;
    std::optional<ServiceMatcher> matches;
    if (q.service) matches.emplace(*q.service, config);
    for (const auto& c : all.entries) {
        if (matches && !(*matches)(c)) continue;
        if (entries.size() == q.limit) {
            truncated = true;
            break;
        }
        entries.push_back(model::to_json(c));
    }
    return json{{"ok", true}, {"dataplane", "connected"}, {"truncated", truncated}, {"connections", std::move(entries)}};
}

}  // namespace dplb::api
