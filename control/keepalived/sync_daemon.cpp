#include "control/keepalived/sync_daemon.hpp"

#include <map>

#include "control/keepalived/values.hpp"
#include "model/validate.hpp"

namespace dplb::keepalived {

namespace {

struct Instance {
    Location where;
    std::optional<uint8_t> vrid;                // virtual_router_id
    const Statement* sync_interface = nullptr;  // lvs_sync_daemon_interface, if any
};

// What lvs_sync_daemon says, before the instance is looked up.
struct Request {
    const Statement* line = nullptr;
    std::string interface;
    std::string instance;  // empty: none named
    config::SyncDaemon settings;
    bool syncid_given = false;
};

std::map<std::string, Instance> vrrp_instances(const std::vector<Statement>& top) {
    std::map<std::string, Instance> out;
    for (const auto& s : top) {
        if (s.name() != "vrrp_instance" || s.args.empty()) continue;
        Instance& in = out[s.args[0].text];
        in.where = s.where();
        for (const auto& k : s.block) {
            if (k.name() == "virtual_router_id") {
                if (auto v = integer_arg(k, 0, 0, 255)) in.vrid = uint8_t(*v);
            } else if (k.name() == "lvs_sync_daemon_interface") {
                in.sync_interface = &k;
            }
        }
    }
    return out;
}

model::Status check_interface(const Statement& s, const std::string& name) {
    if (auto e = model::check_interface_name(name, "")) return error_at(s.where(), s.name(), e->message);
    return std::nullopt;
}

model::Result<Request> read_lvs_sync_daemon(const Statement& s, std::vector<std::string>& warnings) {
    if (s.has_block) return error_at(s.where(), s.name(), "takes no block");
    if (s.args.empty()) return error_at(s.where(), s.name(), "needs an interface: lvs_sync_daemon INTERFACE [VRRP_INSTANCE] ...");
    Request r;
    r.line = &s;
    r.interface = s.args[0].text;
    if (auto e = check_interface(s, r.interface)) return *e;
    for (std::size_t i = 1; i < s.args.size(); ++i) {
        const std::string& word = s.args[i].text;
        bool keyword = word == "inst" || word == "id" || word == "maxlen" || word == "port" || word == "ttl" ||
                       word == "group";
        if (keyword && i + 1 >= s.args.size()) return error_at(s.where(), s.name(), "'" + word + "' needs a value");
        if (word == "inst") {
            r.instance = s.args[++i].text;
        } else if (word == "id") {
            auto v = integer_arg(s, ++i, 0, 255);
            if (!v) return v.error();
            r.settings.syncid = uint8_t(*v);
            r.syncid_given = true;
        } else if (word == "maxlen") {
            // keepalived's range is ipvsadm's (1..65507); the model's is narrower.
            auto v = integer_arg(s, ++i, model::min_sync_maxlen, model::max_sync_maxlen);
            if (!v) return v.error();
            r.settings.sync_maxlen = uint16_t(*v);
        } else if (word == "port") {
            auto v = integer_arg(s, ++i, 1, 65535);
            if (!v) return v.error();
            r.settings.mcast_port = uint16_t(*v);
        } else if (word == "ttl") {
            auto v = integer_arg(s, ++i, 1, 255);
            if (!v) return v.error();
            r.settings.mcast_ttl = uint8_t(*v);
        } else if (word == "group") {
            auto a = address_arg(s, ++i);
            if (!a) return a.error();
            r.settings.mcast_group = *a;  // a multicast one: validate_sync_daemon checks it below
        } else if (i == 1) {
            r.instance = word;  // keepalived 2.2's positional VRRP instance
        } else if (i == 2 && !r.instance.empty() && !word.empty() && word.find_first_not_of("0123456789") == std::string::npos) {
            auto v = integer_arg(s, i, 0, 255);
            if (!v) return v.error();
            r.settings.syncid = uint8_t(*v);
            r.syncid_given = true;
            warnings.push_back(s.where().str() + ": lvs_sync_daemon: a syncid without 'id' is the old spelling (keepalived "
                                                 "asks for 'id " + word + "')");
        } else {
            return error_at(s.where(), s.name(), "unknown option '" + word + "' (expected inst, id, maxlen, port, ttl or group)");
        }
    }
    return r;
}

}  // namespace

model::Result<std::optional<std::vector<config::SyncDaemon>>> parse_sync_daemons(const std::vector<Statement>& top,
                                                                                 std::vector<std::string>& warnings) {
    auto instances = vrrp_instances(top);
    std::optional<Request> request;
    for (const auto& s : top) {
        if (s.name() != "global_defs") continue;
        for (const auto& k : s.block) {
            if (k.name() != "lvs_sync_daemon") continue;
            if (request) {
                warnings.push_back(k.where().str() + ": lvs_sync_daemon: already given at " + request->line->where().str() +
                                   "; ignored (as keepalived ignores it)");
                continue;
            }
            auto r = read_lvs_sync_daemon(k, warnings);
            if (!r) return r.error();
            request = std::move(*r);
        }
    }
    for (const auto& s : top) {  // file order: the first instance that names one counts
        if (s.name() != "vrrp_instance" || s.args.empty()) continue;
        const std::string& name = s.args[0].text;
        const Instance& in = instances.at(name);
        if (!in.sync_interface || in.where.str() != s.where().str()) continue;
        const Statement& k = *in.sync_interface;
        if (request) {
            warnings.push_back(k.where().str() + ": lvs_sync_daemon_interface: ignored, lvs_sync_daemon at " +
                               request->line->where().str() + " says it");
            continue;
        }
        if (auto e = want_args(k, 1)) return *e;
        if (auto e = check_interface(k, k.args[0].text)) return *e;
        warnings.push_back(k.where().str() + ": lvs_sync_daemon_interface is deprecated (keepalived: use global_defs' "
                                             "lvs_sync_daemon " + k.args[0].text + " " + name + "); read as that");
        Request r;
        r.line = &k;
        r.interface = k.args[0].text;
        r.instance = name;
        request = std::move(r);
    }
    if (!request) return std::optional<std::vector<config::SyncDaemon>>{};

    const Statement& line = *request->line;
    if (!request->instance.empty()) {
        auto it = instances.find(request->instance);
        if (it == instances.end()) {
            if (!request->syncid_given)
                return error_at(line.where(), line.name(),
                                "no vrrp_instance " + request->instance + " in the file, and its syncid defaults to that "
                                "instance's virtual_router_id: give 'id SYNC_ID' (or include the vrrp_instance)");
            warnings.push_back(line.where().str() + ": " + line.name() + ": no vrrp_instance " + request->instance +
                               " in the file (keepalived would not run the sync daemon; dplb does not need the instance)");
        } else if (!request->syncid_given && it->second.vrid) {
            request->settings.syncid = *it->second.vrid;
        }
    }
    config::SyncDaemon d = request->settings;
    d.mcast_interface = request->interface;
    config::SyncDaemon master = d, backup = d;
    master.state = config::SyncState::master;
    backup.state = config::SyncState::backup;
    if (auto e = model::validate_sync_daemon(master, "")) return error_at(line.where(), line.name(), e->str());
    return std::optional<std::vector<config::SyncDaemon>>{std::vector<config::SyncDaemon>{master, backup}};
}

}  // namespace dplb::keepalived
