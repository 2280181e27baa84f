// Changes in their request form with "op" for "cmd". Each change is complete (an edit
// carries every member), so decoding needs no configuration: members decode over the
// documented defaults and the encoder writes every member that differs from them.
#include "codec/change_json.hpp"

#include "codec/config_json.hpp"
#include "codec/json_reader.hpp"
#include "common/overloaded.hpp"

namespace dplb::model {

using nlohmann::json;
namespace cfg = dplb::config;

namespace {


// An edit-service's service: its key and attributes, not its lists.
json attributes_to_json(const cfg::Service& s, RuntimeState runtime) {
    json j = to_json(attributes_of(s), runtime);
    j.erase("real_servers");
    j.erase("local_addresses");
    return j;
}

Result<cfg::ServiceKey> key_member(ObjectReader& r, const char* name = "service") {
    const json* m = nullptr;
    if (auto e = r.required(name, m)) return *e;
    return service_key_from_json(*m, r.field(name));
}

Result<Change> decode_op(const std::string& op, ObjectReader& r) {
    const json* m = nullptr;
    if (op == "add-service") {
        if (auto e = r.required("service", m)) return *e;
        auto s = service_from_json(*m, r.field("service"));
        if (!s) return s.error();
        return Change{AddService{std::move(*s)}};
    }
    if (op == "edit-service") {
        if (auto e = r.required("service", m)) return *e;
        ObjectReader sr(*m, r.field("service"));
        cfg::Service s;
        if (auto e = read_service_key(sr, s.key)) return *e;
        if (auto e = read_service_attributes(sr, s)) return *e;
        if (auto e = sr.optional_bool("sorry_active", s.sorry_active)) return *e;
        if (auto e = sr.finish()) return *e;
        return Change{EditService{std::move(s)}};
    }
    if (op == "delete-service") {
        auto k = key_member(r);
        if (!k) return k.error();
        return Change{DeleteService{*k}};
    }
    if (op == "add-real" || op == "edit-real" || op == "delete-real") {
        auto k = key_member(r);
        if (!k) return k.error();
        if (auto e = r.required("real_server", m)) return *e;
        cfg::RealServer defaults;
        defaults.port = k->port;
        auto rs = real_server_from_json(*m, r.field("real_server"), defaults);
        if (!rs) return rs.error();
        if (op == "add-real") return Change{AddReal{*k, *rs}};
        if (op == "edit-real") return Change{EditReal{*k, *rs}};
        return Change{DeleteReal{*k, rs->address, rs->port}};
    }
    if (op == "add-laddr" || op == "delete-laddr") {
        auto k = key_member(r);
        if (!k) return k.error();
        if (auto e = r.required("address", m)) return *e;
        auto a = address_from_json(*m, r.field("address"));
        if (!a) return a.error();
        if (op == "add-laddr") return Change{AddLocalAddress{*k, *a}};
        return Change{DeleteLocalAddress{*k, *a}};
    }
    if (op == "add-port-group") {
        if (auto e = r.required("port_group", m)) return *e;
        auto g = port_group_from_json(*m, r.field("port_group"));
        if (!g) return g.error();
        return Change{AddPortGroup{std::move(*g)}};
    }
    if (op == "delete-port-group") {
        uint64_t mark = 0;
        if (auto e = r.required_uint("mark", 1, 4294967295, mark)) return *e;
        DeletePortGroup d{uint32_t(mark), std::nullopt};
        if (const json* pm = r.get("match")) {
            auto match = port_match_from_json(*pm, r.field("match"));
            if (!match) return match.error();
            d.match = *match;
        }
        return Change{d};
    }
    if (op == "set-timeouts") {
        if (auto e = r.required("timeouts", m)) return *e;
        if (r.get("service")) {
            auto k = key_member(r);
            if (!k) return k.error();
            auto t = timeout_overrides_from_json(*m, r.field("timeouts"));
            if (!t) return t.error();
            return Change{SetServiceTimeouts{*k, *t}};
        }
        auto t = timeouts_from_json(*m, r.field("timeouts"));
        if (!t) return t.error();
        return Change{SetTimeouts{*t}};
    }
    if (op == "clear") return Change{Clear{}};
    if (op == "replace-config") {
        if (auto e = r.required("config", m)) return *e;
        auto c = config_from_json(*m, r.field("config"));
        if (!c) return c.error();
        return Change{ReplaceConfig{std::move(*c)}};
    }
    if (op == "set-real-health") {
        auto k = key_member(r);
        if (!k) return k.error();
        SetRealHealth c{*k, {}, k->port, cfg::RealHealth::up, std::nullopt};
        if (auto e = r.required("real_server", m)) return *e;
        ObjectReader rr(*m, r.field("real_server"));
        const json* addr = nullptr;
        if (auto e = rr.required("address", addr)) return *e;
        auto a = address_from_json(*addr, rr.field("address"));
        if (!a) return a.error();
        c.address = *a;
        uint64_t port = c.port;
        if (auto e = rr.optional_uint("port", 0, 65535, port)) return *e;
        c.port = uint16_t(port);
        if (auto e = rr.finish()) return *e;
        std::string health;
        if (auto e = r.required_string("health", health)) return *e;
        auto h = cfg::parse_health(health);
        if (!h) return Error{r.field("health"), "unknown health '" + health + "' (expected one of: up, removed, inhibited)"};
        c.health = *h;
        uint64_t weight = 0;
        bool has_weight = false;
        if (auto e = r.optional_uint("dynamic_weight", 0, 65535, weight, &has_weight)) return *e;
        if (has_weight) c.dynamic_weight = uint32_t(weight);
        return Change{c};
    }
    if (op == "set-sorry-active") {
        auto k = key_member(r);
        if (!k) return k.error();
        const json* a = nullptr;
        if (auto e = r.required("active", a)) return *e;
        bool active = false;
        if (auto e = read_bool(*a, r.field("active"), active)) return *e;
        return Change{SetSorryActive{*k, active}};
    }
    if (op == "start-sync-daemon") {
        if (auto e = r.required("daemon", m)) return *e;
        auto d = sync_daemon_from_json(*m, r.field("daemon"));
        if (!d) return d.error();
        return Change{StartSyncDaemon{std::move(*d)}};
    }
    if (op == "stop-sync-daemon") {
        if (auto e = r.required("state", m)) return *e;
        auto st = sync_state_from_json(*m, r.field("state"));
        if (!st) return st.error();
        return Change{StopSyncDaemon{*st}};
    }
    return Error{r.field("op"), "unknown change '" + op + "'"};
}

}  // namespace

json to_json(const Change& change, RuntimeState runtime) {
    json j{{"op", op_name(change)}};
    std::visit(Overloaded{
                   [&](const AddService& c) { j["service"] = to_json(c.service, runtime); },
                   [&](const EditService& c) { j["service"] = attributes_to_json(c.service, runtime); },
                   [&](const DeleteService& c) { j["service"] = key_to_json(c.key); },
                   [&](const AddReal& c) {
                       j["service"] = key_to_json(c.service);
                       j["real_server"] = to_json(c.real, runtime);
                   },
                   [&](const EditReal& c) {
                       j["service"] = key_to_json(c.service);
                       j["real_server"] = to_json(c.real, runtime);
                   },
                   [&](const DeleteReal& c) {
                       j["service"] = key_to_json(c.service);
                       j["real_server"] = json{{"address", c.address.str()}, {"port", c.port}};
                   },
                   [&](const AddLocalAddress& c) {
                       j["service"] = key_to_json(c.service);
                       j["address"] = c.address.str();
                   },
                   [&](const DeleteLocalAddress& c) {
                       j["service"] = key_to_json(c.service);
                       j["address"] = c.address.str();
                   },
                   [&](const AddPortGroup& c) { j["port_group"] = to_json(c.group); },
                   [&](const DeletePortGroup& c) {
                       j["mark"] = c.mark;
                       if (c.match) j["match"] = to_json(*c.match);
                   },
                   [&](const SetTimeouts& c) { j["timeouts"] = to_json(c.timeouts); },
                   [&](const SetServiceTimeouts& c) {
                       j["service"] = key_to_json(c.service);
                       j["timeouts"] = to_json(c.timeouts);
                   },
                   [&](const Clear&) {},
                   [&](const ReplaceConfig& c) { j["config"] = to_json(c.config, runtime); },
                   [&](const SetRealHealth& c) {
                       j["service"] = key_to_json(c.service);
                       j["real_server"] = json{{"address", c.address.str()}, {"port", c.port}};
                       j["health"] = cfg::to_string(c.health);
                       if (c.dynamic_weight) j["dynamic_weight"] = *c.dynamic_weight;
                   },
                   [&](const SetSorryActive& c) {
                       j["service"] = key_to_json(c.service);
                       j["active"] = c.active;
                   },
                   [&](const StartSyncDaemon& c) { j["daemon"] = to_json(c.daemon); },
                   [&](const StopSyncDaemon& c) { j["state"] = cfg::to_string(c.state); },
               },
               change);
    return j;
}

Result<Change> change_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    std::string op;
    if (auto e = r.required_string("op", op)) return *e;
    auto change = decode_op(op, r);
    if (!change) return change;
    if (auto e = r.finish()) return *e;
    return change;
}

json to_json(const Batch& batch, RuntimeState runtime) {
    json out = json::array();
    for (const Change& c : batch.changes)
        if (runtime == RuntimeState::include || !is_runtime(c)) out.push_back(to_json(c, runtime));
    return out;
}

Result<Batch> batch_from_json(const json& j, const std::string& path) {
    if (!j.is_array()) return type_error(path, "an array", j);
    Batch batch;
    batch.changes.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
        auto c = change_from_json(j[i], index_path(path, i));
        if (!c) return c.error();
        batch.changes.push_back(std::move(*c));
    }
    return batch;
}

}  // namespace dplb::model
