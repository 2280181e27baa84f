#include "control/keepalived/parse.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "control/keepalived/source.hpp"
#include "control/keepalived/statement.hpp"
#include "control/keepalived/sync_daemon.hpp"
#include "control/keepalived/virtual_server.hpp"
#include "model/describe.hpp"
#include "model/validate.hpp"

namespace dplb::keepalived {

namespace {

// Top-level blocks of keepalived that are not the LVS table.
bool left_to_keepalived(const std::string& n) {
    static const char* const others[] = {"static_ipaddress", "static_routes", "static_rules",
                                         "linkbeat_interfaces", "track_file", "track_process", "bfd_instance",
                                         "garp_group",    "net_namespace",   "instance",      "use_symlink_paths",
                                         "child_wait_time"};
    if (n.starts_with("vrrp_")) return true;
    return std::find(std::begin(others), std::end(others), n) != std::end(others);
}

// The model's rules for one service, named by the line they are about; a service of a group
// also by its group entry.
model::Status check_service(const ParsedVirtualServer& vs) {
    const config::Service& svc = vs.service;
    const VirtualServerHealth& h = vs.health;
    auto e = model::validate_service(svc, "");
    if (!e) return std::nullopt;
    std::string of = vs.origin.empty() ? "" : " (" + model::describe(svc.key) + " of " + vs.origin + ")";
    const std::string& field = e->field;
    if (field.starts_with("real_servers[")) {
        std::size_t i = std::stoul(field.substr(13));
        auto dot = field.find("].");
        std::string member = dot == std::string::npos ? "" : field.substr(dot + 2);
        if (i < h.reals.size())
            return error_at(h.reals[i].where, "real_server",
                            (member.empty() ? e->message : member + ": " + e->message) + of);
    }
    return error_at(h.where, "virtual_server", e->str() + of);
}

// A key as a map key: the model refuses the same service twice.
using KeyTuple = std::tuple<uint32_t, uint32_t, uint16_t, uint8_t>;
KeyTuple tuple_of(const config::ServiceKey& k) {
    return {k.fwmark, k.address.host(), k.port, uint8_t(k.protocol)};
}

// global_defs: dplb-control reads the FIFOs its checker engine writes to; everything else
// there is about VRRP, mail and the daemon, left to keepalived.
model::Status parse_global_defs(const Statement& s, KeepalivedConfig& out) {
    bool others = false, fifos = false, sync = false;
    for (const auto& k : s.block) {
        const std::string& n = k.name();
        if (n == "lvs_sync_daemon") {  // parse_sync_daemons reads it
            sync = true;
            continue;
        }
        if (n != "lvs_notify_fifo" && n != "notify_fifo") {
            others = true;
            continue;
        }
        if (k.args.empty() || k.has_block) return error_at(k.where(), n, "needs a FIFO path: " + n + " PATH [user [group]]");
        (n == "lvs_notify_fifo" ? out.lvs_notify_fifo : out.notify_fifo) = k.args[0].text;
        fifos = true;
        if (k.args.size() > 1)
            out.warnings.push_back(k.where().str() + ": " + n + ": user/group ignored (dplb-control opens the FIFO as itself)");
    }
    if (others) {
        std::string kept = fifos && sync ? " but for its notify FIFOs and lvs_sync_daemon"
                           : fifos       ? " but for its notify FIFOs"
                           : sync        ? " but for its lvs_sync_daemon"
                                         : "";
        out.warnings.push_back(s.where().str() + ": global_defs ignored" + kept + " (VRRP is left to keepalived)");
    }
    return std::nullopt;
}

}  // namespace

model::Result<KeepalivedConfig> parse_keepalived(const std::string& path) {
    auto src = read_source(path);
    if (!src) return src.error();
    auto top = parse_statements(src->tokens);
    if (!top) return top.error();
    KeepalivedConfig out;
    out.warnings = std::move(src->warnings);
    out.files = std::move(src->files);

    LocalAddressGroups groups;
    VirtualServerGroups vs_groups;
    for (const auto& s : *top) {
        if (s.name() == "local_address_group") {
            auto g = parse_local_address_group(s, out.warnings);
            if (!g) return g.error();
            if (!groups.emplace(s.args[0].text, std::move(*g)).second)
                return error_at(s.where(), s.name(), "a second group named '" + s.args[0].text + "'");
        } else if (s.name() == "virtual_server_group") {
            // Read before the virtual servers: keepalived lets a group come after its users.
            auto g = parse_virtual_server_group(s);
            if (!g) return g.error();
            auto [it, fresh] = vs_groups.emplace(s.args[0].text, std::move(*g));
            if (!fresh)
                return error_at(s.where(), s.name(),
                                "a second group named '" + s.args[0].text + "' (the first is at " + it->second.where.str() + ")");
        }
    }
    std::map<KeyTuple, std::size_t> seen;  // service key -> index in out.services
    std::vector<std::string> origins;      // per service, for messages
    for (const auto& s : *top) {
        const std::string& n = s.name();
        if (n == "local_address_group" || n == "virtual_server_group") continue;
        if (n == "global_defs") {
            if (auto e = parse_global_defs(s, out)) return *e;
        } else if (n == "virtual_server") {
            auto parsed = parse_virtual_server(s, groups, vs_groups, out.warnings);
            if (!parsed) return parsed.error();
            for (auto& vs : *parsed) {
                if (auto e = check_service(vs)) return *e;
                auto [it, fresh] = seen.try_emplace(tuple_of(vs.service.key), out.services.size());
                if (!fresh) {
                    std::size_t i = it->second;
                    std::string what = vs.origin.empty()
                                           ? "the same service"
                                           : vs.origin + " gives " + model::describe(vs.service.key) + ", the same service";
                    std::string other = out.health[i].where.str();
                    if (!origins[i].empty()) other += " through its " + origins[i];
                    std::string hint;
                    bool same_vs = out.health[i].where.str() == s.where().str();
                    if (!same_vs && !vs.group.empty() && origins[i].starts_with("group " + vs.group + " entry "))
                        hint = vs.service.key.is_fwmark()
                                   ? " (a fwmark entry is one service whatever the protocol: two virtual servers "
                                     "cannot share a group with fwmark entries)"
                                   : " (keepalived.conf(5): two virtual servers with the same protocol must not use "
                                     "the same group)";
                    return error_at(s.where(), n, what + " as the virtual_server at " + other + hint);
                }
                out.services.push_back(std::move(vs.service));
                out.health.push_back(std::move(vs.health));
                origins.push_back(std::move(vs.origin));
            }
        } else if (left_to_keepalived(n)) {
            bool vrrp = n.starts_with("vrrp_");
            out.warnings.push_back(s.where().str() + ": " + n + " ignored (" +
                                   (vrrp ? "VRRP is left to keepalived" : "left to keepalived") + ")");
        } else {
            return error_at(s.where(), n, "unknown keyword");
        }
    }
    auto daemons = parse_sync_daemons(*top, out.warnings);
    if (!daemons) return daemons.error();
    out.sync_daemons = std::move(*daemons);
    config::Config whole;
    whole.services = out.services;
    if (auto e = model::validate_config(whole)) return model::Error{path, e->str()};
    return out;
}

model::Result<config::Config> replacement_config(const config::Config& current, const KeepalivedConfig& file) {
    config::Config c;
    c.timeouts = current.timeouts;
    c.port_groups = current.port_groups;
    c.services = file.services;
    // The file's sync daemons when it names any; otherwise those started with dplbadm stay
    // (many run `ipvsadm --start-daemon` beside a keepalived.conf without lvs_sync_daemon).
    c.sync_daemons = file.sync_daemons ? *file.sync_daemons : current.sync_daemons;
    for (std::size_t i = 0; i < c.services.size(); ++i) {
        const auto& key = c.services[i].key;
        if (!key.is_fwmark()) continue;
        bool found = std::any_of(c.port_groups.begin(), c.port_groups.end(),
                                 [&](const config::PortGroup& g) { return g.mark == key.fwmark; });
        if (!found)
            return error_at(file.health[i].where, "virtual_server",
                            "fwmark " + std::to_string(key.fwmark) + ": dplb has no port group with mark " +
                                std::to_string(key.fwmark) + " (add it first: dplbadm --add-mark -f " +
                                std::to_string(key.fwmark) + " -t|-u ADDRESS:PORT)");
    }
    if (auto e = model::validate_config(c)) return model::Error{"", "the configuration with the file's services: " + e->str()};
    return c;
}

}  // namespace dplb::keepalived
