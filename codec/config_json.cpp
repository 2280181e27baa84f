// Services, real servers, keys and the configuration as a whole. The objects a service
// holds besides real servers (persistence, flags, timeouts) and port groups have their own
// files: service_options_json.cpp, port_group_json.cpp.
#include "codec/config_json.hpp"

#include "codec/json_array.hpp"
#include "codec/json_reader.hpp"
#include "model/validate.hpp"

namespace dplb::model {

using nlohmann::json;
namespace cfg = dplb::config;

namespace {

constexpr uint64_t max_port = 65535;
constexpr uint64_t max_weight = 65535;
constexpr uint64_t max_fwmark = 4294967295;

// Ports decode as 0..65535; validation says where 0 may be used.
Status read_port(ObjectReader& r, std::string_view name, uint16_t& out, bool required) {
    uint64_t v = out;
    Status e = required ? r.required_uint(name, 0, max_port, v) : r.optional_uint(name, 0, max_port, v);
    if (e) return e;
    out = uint16_t(v);
    return std::nullopt;
}

Status read_u32(ObjectReader& r, std::string_view name, uint64_t max, uint32_t& out) {
    uint64_t v = out;
    if (auto e = r.optional_uint(name, 0, max, v)) return e;
    out = uint32_t(v);
    return std::nullopt;
}

}  // namespace

Status read_service_key(ObjectReader& r, cfg::ServiceKey& key) {
    uint64_t mark = 0;
    bool has_mark = false;
    if (auto e = r.optional_uint("fwmark", 1, max_fwmark, mark, &has_mark)) return e;
    if (has_mark) {
        for (std::string_view other : {"protocol", "address", "port"})
            if (r.get(other))
                return Error{r.field(other), "a fwmark service has no " + std::string(other) +
                                                 " (its port group says which packets it gets)"};
        key = cfg::ServiceKey{};
        key.fwmark = uint32_t(mark);
        return std::nullopt;
    }
    std::string proto;
    if (auto e = r.required_string("protocol", proto)) return e;
    auto p = cfg::parse_protocol(proto);
    if (!p) return Error{r.field("protocol"), "unknown protocol '" + proto + "' (expected tcp or udp)"};
    key.protocol = *p;
    key.fwmark = 0;
    const json* addr = nullptr;
    if (auto e = r.required("address", addr)) return e;
    auto a = address_from_json(*addr, r.field("address"));
    if (!a) return a.error();
    key.address = *a;
    return read_port(r, "port", key.port, true);
}

Result<Ip4> address_from_json(const json& j, const std::string& path) {
    std::string text;
    if (auto e = read_string(j, path, text)) return *e;
    auto a = Ip4::parse(text);
    if (!a) return Error{path, "'" + text + "' is not a dotted-quad IPv4 address"};
    return *a;
}

Result<cfg::Scheduler> scheduler_from_json(const json& j, const std::string& path) {
    std::string name;
    if (auto e = read_string(j, path, name)) return *e;
    auto s = cfg::parse_scheduler(name);
    if (!s)
        return Error{path, "unknown scheduler '" + name + "' (expected one of: " +
                               cfg::supported_scheduler_names() + ")"};
    return *s;
}

Result<cfg::ForwardMethod> forward_from_json(const json& j, const std::string& path) {
    std::string name;
    if (auto e = read_string(j, path, name)) return *e;
    auto f = cfg::parse_forward(name);
    if (!f) return Error{path, "unknown forward method '" + name + "' (expected one of: nat, fullnat, dr, tunnel)"};
    return *f;
}

Result<cfg::ServiceKey> service_key_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::ServiceKey key;
    if (auto e = read_service_key(r, key)) return *e;
    if (auto e = r.finish()) return *e;
    return key;
}

Result<cfg::RealServer> real_server_from_json(const json& j, const std::string& path,
                                             const cfg::RealServer& defaults) {
    ObjectReader r(j, path);
    cfg::RealServer rs = defaults;
    const json* addr = nullptr;
    if (auto e = r.required("address", addr)) return *e;
    auto a = address_from_json(*addr, r.field("address"));
    if (!a) return a.error();
    rs.address = *a;
    if (auto e = read_port(r, "port", rs.port, false)) return *e;
    if (auto e = read_u32(r, "weight", max_weight, rs.weight)) return *e;
    if (const json* f = r.get("forward")) {
        auto fwd = forward_from_json(*f, r.field("forward"));
        if (!fwd) return fwd.error();
        rs.forward = *fwd;
    }
    if (auto e = read_u32(r, "upper_threshold", max_threshold, rs.upper_threshold)) return *e;
    if (auto e = read_u32(r, "lower_threshold", max_threshold, rs.lower_threshold)) return *e;
    // Runtime state, tolerated whether or not the encoder wrote it.
    if (const json* h = r.get("health")) {
        std::string name;
        if (auto e = read_string(*h, r.field("health"), name)) return *e;
        auto health = cfg::parse_health(name);
        if (!health)
            return Error{r.field("health"), "unknown health '" + name + "' (expected one of: up, removed, inhibited)"};
        rs.health = *health;
    }
    if (const json* w = r.get("dynamic_weight")) {
        if (w->is_null()) {
            rs.dynamic_weight.reset();
        } else {
            uint64_t v = 0;
            if (auto e = read_uint(*w, r.field("dynamic_weight"), 0, max_weight, v)) return *e;
            rs.dynamic_weight = uint32_t(v);
        }
    }
    if (auto e = r.finish()) return *e;
    return rs;
}

Result<cfg::SorryServer> sorry_server_from_json(const json& j, const std::string& path, uint16_t default_port) {
    ObjectReader r(j, path);
    cfg::SorryServer s;
    s.port = default_port;
    const json* addr = nullptr;
    if (auto e = r.required("address", addr)) return *e;
    auto a = address_from_json(*addr, r.field("address"));
    if (!a) return a.error();
    s.address = *a;
    if (auto e = read_port(r, "port", s.port, false)) return *e;
    if (const json* f = r.get("forward")) {
        auto fwd = forward_from_json(*f, r.field("forward"));
        if (!fwd) return fwd.error();
        s.forward = *fwd;
    }
    if (auto e = r.optional_bool("inhibit", s.inhibit)) return *e;
    if (auto e = r.finish()) return *e;
    return s;
}

Status read_service_attributes(ObjectReader& r, cfg::Service& svc, AttributesGiven* given) {
    AttributesGiven g;
    if (const json* s = r.get("scheduler")) {
        auto sched = scheduler_from_json(*s, r.field("scheduler"));
        if (!sched) return sched.error();
        svc.scheduler = *sched;
        g.scheduler = true;
    }
    if (const json* f = r.get("sched_flags")) {
        auto flags = sched_flags_from_json(*f, r.field("sched_flags"));
        if (!flags) return flags.error();
        svc.sched_flags = *flags;
        g.sched_flags = true;
    }
    bool present = false;
    uint64_t size = svc.mh_table_size;
    if (auto e = r.optional_uint("mh_table_size", 0, 4294967295, size, &present)) return e;
    svc.mh_table_size = uint32_t(size);
    g.mh_table_size = present;
    if (const json* p = r.get("persistence")) {
        g.persistence = true;
        if (p->is_null()) {
            svc.persistence.reset();
        } else {
            auto pers = persistence_from_json(*p, r.field("persistence"));
            if (!pers) return pers.error();
            svc.persistence = *pers;
        }
    }
    if (const json* t = r.get("timeouts")) {
        auto overrides = timeout_overrides_from_json(*t, r.field("timeouts"), svc.timeouts);
        if (!overrides) return overrides.error();
        svc.timeouts = *overrides;
        g.timeouts = true;
    }
    if (const json* s = r.get("sorry_server")) {
        g.sorry_server = true;
        if (s->is_null()) {
            svc.sorry_server.reset();
        } else {
            auto sorry = sorry_server_from_json(*s, r.field("sorry_server"), svc.key.port);
            if (!sorry) return sorry.error();
            svc.sorry_server = *sorry;
        }
    }
    if (const json* x = r.get("expire_nodest_conn")) {
        if (!x->is_boolean()) return type_error(r.field("expire_nodest_conn"), "a boolean", *x);
        svc.expire_nodest_conn = x->get<bool>();
        g.expire_nodest_conn = true;
    }
    if (given) *given = g;
    return std::nullopt;
}

Result<cfg::Service> service_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::Service svc;
    if (auto e = read_service_key(r, svc.key)) return *e;
    if (auto e = read_service_attributes(r, svc)) return *e;
    if (auto e = r.optional_bool("sorry_active", svc.sorry_active)) return *e;  // runtime state
    if (auto e = read_array<Ip4>(r, "local_addresses", svc.local_addresses, address_from_json)) return *e;
    cfg::RealServer defaults;
    defaults.port = svc.key.port;
    auto real = [&defaults](const json& item, const std::string& p) { return real_server_from_json(item, p, defaults); };
    if (auto e = read_array<cfg::RealServer>(r, "real_servers", svc.reals, real)) return *e;
    if (auto e = r.finish()) return *e;
    return svc;
}

Result<cfg::Timeouts> timeouts_from_json(const json& j, const std::string& path, const cfg::Timeouts& base) {
    ObjectReader r(j, path);
    cfg::Timeouts t = base;
    for (auto [name, member] : {std::pair{"tcp", &cfg::Timeouts::tcp}, std::pair{"tcp_fin", &cfg::Timeouts::tcp_fin},
                                std::pair{"udp", &cfg::Timeouts::udp}}) {
        uint64_t v = t.*member;
        if (auto e = r.optional_uint(name, min_timeout, max_timeout, v)) return *e;
        t.*member = uint32_t(v);
    }
    if (auto e = r.finish()) return *e;
    return t;
}

Result<cfg::Config> config_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::Config c;
    if (const json* t = r.get("timeouts")) {
        auto timeouts = timeouts_from_json(*t, r.field("timeouts"));
        if (!timeouts) return timeouts.error();
        c.timeouts = *timeouts;
    }
    if (auto e = read_array<cfg::PortGroup>(r, "port_groups", c.port_groups, port_group_from_json)) return *e;
    if (auto e = read_array<cfg::Service>(r, "services", c.services, service_from_json)) return *e;
    if (auto e = read_array<cfg::SyncDaemon>(r, "sync_daemons", c.sync_daemons, sync_daemon_from_json)) return *e;
    if (auto e = r.finish()) return *e;
    if (auto e = validate_config(c, path)) return *e;
    return c;
}

json key_to_json(const cfg::ServiceKey& k) {
    if (k.is_fwmark()) return json{{"fwmark", k.fwmark}};
    return json{{"protocol", cfg::to_string(k.protocol)}, {"address", k.address.str()}, {"port", k.port}};
}

json to_json(const cfg::RealServer& rs, RuntimeState runtime) {
    json j{{"address", rs.address.str()},
           {"port", rs.port},
           {"weight", rs.weight},
           {"forward", cfg::to_string(rs.forward)},
           {"upper_threshold", rs.upper_threshold},
           {"lower_threshold", rs.lower_threshold}};
    if (runtime == RuntimeState::include) {
        if (rs.health != cfg::RealHealth::up) j["health"] = cfg::to_string(rs.health);
        if (rs.dynamic_weight) j["dynamic_weight"] = *rs.dynamic_weight;
    }
    return j;
}

json to_json(const cfg::SorryServer& s) {
    return json{{"address", s.address.str()},
                {"port", s.port},
                {"forward", cfg::to_string(s.forward)},
                {"inhibit", s.inhibit}};
}

json to_json(const cfg::Service& s, RuntimeState runtime) {
    json j = key_to_json(s.key);
    j["scheduler"] = cfg::to_string(s.scheduler);
    j["sched_flags"] = sched_flags_to_json(s.sched_flags);
    // Only where it means something, or where it would otherwise be lost.
    if (s.scheduler == cfg::Scheduler::mh || s.mh_table_size != cfg::Service{}.mh_table_size)
        j["mh_table_size"] = s.mh_table_size;
    if (s.persistence) j["persistence"] = to_json(*s.persistence);
    j["timeouts"] = to_json(s.timeouts);
    if (s.sorry_server) j["sorry_server"] = to_json(*s.sorry_server);
    if (runtime == RuntimeState::include && s.sorry_active) j["sorry_active"] = true;
    if (s.expire_nodest_conn) j["expire_nodest_conn"] = true;  // absent: false, IPVS's default
    json laddrs = json::array();
    for (Ip4 a : s.local_addresses) laddrs.push_back(a.str());
    j["local_addresses"] = std::move(laddrs);
    json reals = json::array();
    for (const auto& rs : s.reals) reals.push_back(to_json(rs, runtime));
    j["real_servers"] = std::move(reals);
    return j;
}

json to_json(const cfg::Timeouts& t) {
    return json{{"tcp", t.tcp}, {"tcp_fin", t.tcp_fin}, {"udp", t.udp}};
}

json to_json(const cfg::Config& c, RuntimeState runtime) {
    json groups = json::array();
    for (const auto& g : c.port_groups) groups.push_back(to_json(g));
    json services = json::array();
    for (const auto& s : c.services) services.push_back(to_json(s, runtime));
    json j{{"timeouts", to_json(c.timeouts)}, {"port_groups", std::move(groups)}, {"services", std::move(services)}};
    if (!c.sync_daemons.empty()) {
        json daemons = json::array();
        for (const auto& d : c.sync_daemons) daemons.push_back(to_json(d));
        j["sync_daemons"] = std::move(daemons);
    }
    return j;
}

}  // namespace dplb::model
