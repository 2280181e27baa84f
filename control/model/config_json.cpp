#include "control/model/config_json.hpp"

#include "control/model/json_reader.hpp"
#include "control/model/validate.hpp"

namespace dplb::model {

using nlohmann::json;
namespace cfg = dplb::config;

namespace {

constexpr uint64_t max_port = 65535;
constexpr uint64_t max_weight = 65535;
constexpr uint64_t max_threshold = 2147483647;  // ipvsadm's INT_MAX

Status read_port(ObjectReader& r, std::string_view name, uint16_t& out, bool required) {
    uint64_t v = out;
    Status e = required ? r.required_uint(name, 1, max_port, v) : r.optional_uint(name, 1, max_port, v);
    if (e) return e;
    out = uint16_t(v);
    return std::nullopt;
}

template <class T>
Status read_array(ObjectReader& r, std::string_view name, std::vector<T>& out, auto&& decode) {
    const json* arr = r.get(name);
    if (!arr) return std::nullopt;
    std::string field = r.field(name);
    if (!arr->is_array()) return type_error(field, "an array", *arr);
    out.clear();
    out.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
        Result<T> item = decode((*arr)[i], index_path(field, i));
        if (!item) return item.error();
        out.push_back(std::move(*item));
    }
    return std::nullopt;
}

}  // namespace

Status read_service_key(ObjectReader& r, cfg::ServiceKey& key) {
    std::string proto;
    if (auto e = r.required_string("protocol", proto)) return e;
    auto p = cfg::parse_protocol(proto);
    if (!p) return Error{r.field("protocol"), "unknown protocol '" + proto + "' (expected tcp or udp)"};
    key.protocol = *p;
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
    uint64_t v = rs.weight;
    if (auto e = r.optional_uint("weight", 0, max_weight, v)) return *e;
    rs.weight = uint32_t(v);
    if (const json* f = r.get("forward")) {
        auto fwd = forward_from_json(*f, r.field("forward"));
        if (!fwd) return fwd.error();
        rs.forward = *fwd;
    }
    v = rs.upper_threshold;
    if (auto e = r.optional_uint("upper_threshold", 0, max_threshold, v)) return *e;
    rs.upper_threshold = uint32_t(v);
    v = rs.lower_threshold;
    if (auto e = r.optional_uint("lower_threshold", 0, max_threshold, v)) return *e;
    rs.lower_threshold = uint32_t(v);
    if (auto e = r.finish()) return *e;
    return rs;
}

Result<cfg::Service> service_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::Service svc;
    if (auto e = read_service_key(r, svc.key)) return *e;
    if (const json* s = r.get("scheduler")) {
        auto sched = scheduler_from_json(*s, r.field("scheduler"));
        if (!sched) return sched.error();
        svc.scheduler = *sched;
    }
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
    uint64_t v = t.tcp;
    if (auto e = r.optional_uint("tcp", min_timeout, max_timeout, v)) return *e;
    t.tcp = uint32_t(v);
    v = t.tcp_fin;
    if (auto e = r.optional_uint("tcp_fin", min_timeout, max_timeout, v)) return *e;
    t.tcp_fin = uint32_t(v);
    v = t.udp;
    if (auto e = r.optional_uint("udp", min_timeout, max_timeout, v)) return *e;
    t.udp = uint32_t(v);
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
    if (auto e = read_array<cfg::Service>(r, "services", c.services, service_from_json)) return *e;
    if (auto e = r.finish()) return *e;
    if (auto e = validate_config(c, path)) return *e;
    return c;
}

json key_to_json(const cfg::ServiceKey& k) {
    return json{{"protocol", cfg::to_string(k.protocol)}, {"address", k.address.str()}, {"port", k.port}};
}

json to_json(const cfg::RealServer& rs) {
    return json{{"address", rs.address.str()},
                {"port", rs.port},
                {"weight", rs.weight},
                {"forward", cfg::to_string(rs.forward)},
                {"upper_threshold", rs.upper_threshold},
                {"lower_threshold", rs.lower_threshold}};
}

json to_json(const cfg::Service& s) {
    json j = key_to_json(s.key);
    j["scheduler"] = cfg::to_string(s.scheduler);
    json laddrs = json::array();
    for (Ip4 a : s.local_addresses) laddrs.push_back(a.str());
    j["local_addresses"] = std::move(laddrs);
    json reals = json::array();
    for (const auto& rs : s.reals) reals.push_back(to_json(rs));
    j["real_servers"] = std::move(reals);
    return j;
}

json to_json(const cfg::Timeouts& t) {
    return json{{"tcp", t.tcp}, {"tcp_fin", t.tcp_fin}, {"udp", t.udp}};
}

json to_json(const cfg::Config& c) {
    json services = json::array();
    for (const auto& s : c.services) services.push_back(to_json(s));
    return json{{"timeouts", to_json(c.timeouts)}, {"services", std::move(services)}};
}

std::string describe(const cfg::ServiceKey& k) {
    return std::string(cfg::to_string(k.protocol)) + " " + describe(k.address, k.port);
}

std::string describe(Ip4 address, uint16_t port) { return address.str() + ":" + std::to_string(port); }

}  // namespace dplb::model
