// Codec of what a service holds besides its key and lists: persistence, scheduler flags and
// per-service timeout overrides.
#include "codec/config_json.hpp"
#include "codec/json_reader.hpp"
#include "model/sched_flags.hpp"
#include "model/validate.hpp"

namespace dplb::model {

using nlohmann::json;
namespace cfg = dplb::config;

namespace {

struct TimeoutMember {
    const char* name;
    std::optional<uint32_t> cfg::TimeoutOverrides::*member;
};
constexpr TimeoutMember timeout_members[] = {
    {"tcp", &cfg::TimeoutOverrides::tcp},
    {"tcp_fin", &cfg::TimeoutOverrides::tcp_fin},
    {"udp", &cfg::TimeoutOverrides::udp},
};

}  // namespace

Result<cfg::Persistence> persistence_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::Persistence p;
    uint64_t timeout = p.timeout;
    if (auto e = r.optional_uint("timeout", min_timeout, max_timeout, timeout)) return *e;
    p.timeout = uint32_t(timeout);
    if (const json* m = r.get("netmask")) {
        auto mask = address_from_json(*m, r.field("netmask"));
        if (!mask) return mask.error();
        p.netmask = *mask;
    }
    if (auto e = r.finish()) return *e;
    return p;
}

Result<uint32_t> sched_flags_from_json(const json& j, const std::string& path) {
    if (!j.is_array()) return type_error(path, "an array", j);
    uint32_t flags = 0;
    for (std::size_t i = 0; i < j.size(); ++i) {
        std::string name;
        if (auto e = read_string(j[i], index_path(path, i), name)) return *e;
        auto f = parse_sched_flag(name);
        if (!f)
            return Error{index_path(path, i),
                         "unknown scheduler flag '" + name + "' (expected one of: " + all_sched_flag_names() + ")"};
        flags |= *f;
    }
    return flags;
}

Result<cfg::TimeoutOverrides> timeout_overrides_from_json(const json& j, const std::string& path,
                                                         const cfg::TimeoutOverrides& base) {
    ObjectReader r(j, path);
    cfg::TimeoutOverrides t = base;
    for (const auto& m : timeout_members) {
        const json* v = r.get(m.name);
        if (!v) continue;
        if (v->is_null()) {
            (t.*m.member).reset();
            continue;
        }
        uint64_t seconds = 0;
        if (auto e = read_uint(*v, r.field(m.name), min_timeout, max_timeout, seconds)) return *e;
        t.*m.member = uint32_t(seconds);
    }
    if (auto e = r.finish()) return *e;
    return t;
}

json to_json(const cfg::Persistence& p) { return json{{"timeout", p.timeout}, {"netmask", p.netmask.str()}}; }

json sched_flags_to_json(uint32_t flags) {
    json out = json::array();
    for (std::string_view name : sched_flag_names(flags)) out.push_back(name);
    return out;
}

json to_json(const cfg::TimeoutOverrides& t) {
    json out = json::object();
    for (const auto& m : timeout_members)
        if (t.*m.member) out[m.name] = *(t.*m.member);
    return out;
}

}  // namespace dplb::model
