#include <limits>

#include "codec/config_json.hpp"
#include "codec/json_reader.hpp"
#include "model/stats.hpp"
#include "codec/stats_json.hpp"

namespace dplb::model {

using nlohmann::json;

namespace {

constexpr uint64_t any_u64 = std::numeric_limits<uint64_t>::max();

struct CounterField {
    const char* name;
    uint64_t Counters::*member;
};
constexpr CounterField counter_fields[] = {
    {"conns", &Counters::conns},     {"inpkts", &Counters::inpkts},     {"outpkts", &Counters::outpkts},
    {"inbytes", &Counters::inbytes}, {"outbytes", &Counters::outbytes},
};

// Rates are optional in a reply (a dataplane that estimates none sends none: zeros).
Status read_rates(ObjectReader& r, Rates& out) {
    const json* m = r.get("rates");
    if (!m) return std::nullopt;
    ObjectReader rr(*m, r.field("rates"));
    if (auto e = rr.status()) return e;
    for (auto [name, field] : {std::pair{"cps", &Rates::cps}, {"inpps", &Rates::inpps}, {"outpps", &Rates::outpps},
                               {"inbps", &Rates::inbps}, {"outbps", &Rates::outbps}})
        if (auto e = rr.optional_uint(name, 0, any_u64, out.*field)) return e;
    return std::nullopt;
}

Result<RealServerStats> real_stats_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    RealServerStats rs;
    const json* addr = nullptr;
    if (auto e = r.required("address", addr)) return *e;
    auto a = address_from_json(*addr, r.field("address"));
    if (!a) return a.error();
    rs.address = *a;
    uint64_t port = 0;
    if (auto e = r.required_uint("port", 0, 65535, port)) return *e;
    rs.port = uint16_t(port);
    if (auto e = r.optional_uint("active_conns", 0, any_u64, rs.active_conns)) return *e;
    if (auto e = r.optional_uint("inactive_conns", 0, any_u64, rs.inactive_conns)) return *e;
    if (auto e = r.optional_uint("persistent_conns", 0, any_u64, rs.persistent_conns)) return *e;
    if (auto e = r.optional_uint("syn_timeouts", 0, any_u64, rs.syn_timeouts)) return *e;
    if (auto e = r.optional_uint("resets", 0, any_u64, rs.resets)) return *e;
    if (const json* s = r.get("stats")) {
        auto c = counters_from_json(*s, r.field("stats"));
        if (!c) return c.error();
        rs.stats = *c;
    }
    if (auto e = read_rates(r, rs.rates)) return *e;
    return rs;
}

Result<ServiceStats> service_stats_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    ServiceStats s;
    if (auto e = read_service_key(r, s.key)) return *e;
    if (const json* st = r.get("stats")) {
        auto c = counters_from_json(*st, r.field("stats"));
        if (!c) return c.error();
        s.stats = *c;
    }
    if (auto e = read_rates(r, s.rates)) return *e;
    if (const json* reals = r.get("real_servers")) {
        if (!reals->is_array()) return type_error(r.field("real_servers"), "an array", *reals);
        for (std::size_t i = 0; i < reals->size(); ++i) {
            auto rs = real_stats_from_json((*reals)[i], index_path(r.field("real_servers"), i));
            if (!rs) return rs.error();
            s.reals.push_back(*rs);
        }
    }
    return s;
}

}  // namespace

json to_json(const Rates& r) {
    return {{"cps", r.cps}, {"inpps", r.inpps}, {"outpps", r.outpps}, {"inbps", r.inbps}, {"outbps", r.outbps}};
}

json to_json(const Counters& c) {
    json j = json::object();
    for (const auto& f : counter_fields) j[f.name] = c.*f.member;
    return j;
}

Result<Counters> counters_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    Counters c;
    for (const auto& f : counter_fields)
        if (auto e = r.optional_uint(f.name, 0, any_u64, c.*f.member)) return *e;
    return c;
}

json stats_reply_to_json(const StatsSnapshot& snap) {
    json services = json::array();
    for (const auto& s : snap.services) {
        json js = key_to_json(s.key);
        js["stats"] = to_json(s.stats);
        js["rates"] = to_json(s.rates);
        json reals = json::array();
        for (const auto& rs : s.reals)
            reals.push_back(json{{"address", rs.address.str()},
                                 {"port", rs.port},
                                 {"active_conns", rs.active_conns},
                                 {"inactive_conns", rs.inactive_conns},
                                 {"persistent_conns", rs.persistent_conns},
                                 {"syn_timeouts", rs.syn_timeouts},
                                 {"resets", rs.resets},
                                 {"stats", to_json(rs.stats)},
                                 {"rates", to_json(rs.rates)}});
        js["real_servers"] = std::move(reals);
        services.push_back(std::move(js));
    }
    return json{{"ok", true}, {"generation", snap.generation}, {"services", std::move(services)}};
}

Result<StatsSnapshot> stats_reply_from_json(const json& j) {
    ObjectReader r(j, "");
    StatsSnapshot snap;
    if (auto e = r.optional_uint("generation", 0, any_u64, snap.generation)) return *e;
    const json* services = r.get("services");
    if (!services) return snap;
    if (!services->is_array()) return type_error("services", "an array", *services);
    for (std::size_t i = 0; i < services->size(); ++i) {
        auto s = service_stats_from_json((*services)[i], index_path("services", i));
        if (!s) return s.error();
        snap.services.push_back(std::move(*s));
    }
    return snap;
}

json passive_failures_reply_to_json(const std::vector<PassiveFailures>& reals) {
    json out = json::array();
    for (const auto& r : reals)
        out.push_back(json{{"service", key_to_json(r.service)},
                           {"address", r.address.str()},
                           {"port", r.port},
                           {"syn_timeouts", r.syn_timeouts},
                           {"resets", r.resets}});
    return json{{"ok", true}, {"reals", std::move(out)}};
}

Result<std::vector<PassiveFailures>> passive_failures_reply_from_json(const json& j) {
    ObjectReader r(j, "");
    if (auto e = r.status()) return *e;
    std::vector<PassiveFailures> out;
    const json* reals = r.get("reals");
    if (!reals) return out;
    if (!reals->is_array()) return type_error("reals", "an array", *reals);
    for (std::size_t i = 0; i < reals->size(); ++i) {
        const std::string path = index_path("reals", i);
        ObjectReader rr((*reals)[i], path);
        PassiveFailures pf;
        const json* m = nullptr;
        if (auto e = rr.required("service", m)) return *e;
        auto key = service_key_from_json(*m, rr.field("service"));
        if (!key) return key.error();
        pf.service = *key;
        if (auto e = rr.required("address", m)) return *e;
        auto a = address_from_json(*m, rr.field("address"));
        if (!a) return a.error();
        pf.address = *a;
        uint64_t port = 0;
        if (auto e = rr.required_uint("port", 0, 65535, port)) return *e;
        pf.port = uint16_t(port);
        if (auto e = rr.optional_uint("syn_timeouts", 0, any_u64, pf.syn_timeouts)) return *e;
        if (auto e = rr.optional_uint("resets", 0, any_u64, pf.resets)) return *e;
        out.push_back(pf);
    }
    return out;
}

}  // namespace dplb::model
