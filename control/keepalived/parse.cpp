#include "control/keepalived/parse.hpp"

#include <algorithm>

#include "control/keepalived/source.hpp"
#include "control/keepalived/statement.hpp"
#include "control/keepalived/virtual_server.hpp"
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

// The model's rules for one service, named by the line they are about.
model::Status check_service(const config::Service& svc, const VirtualServerHealth& h) {
    auto e = model::validate_service(svc, "");
    if (!e) return std::nullopt;
    const std::string& field = e->field;
    if (field.starts_with("real_servers[")) {
        std::size_t i = std::stoul(field.substr(13));
        auto dot = field.find("].");
        std::string member = dot == std::string::npos ? "" : field.substr(dot + 2);
        if (i < h.reals.size())
            return error_at(h.reals[i].where, "real_server", member.empty() ? e->message : member + ": " + e->message);
    }
    return error_at(h.where, "virtual_server", e->str());
}

// global_defs: dplb-control reads the FIFOs its checker engine writes to; everything else
// there is about VRRP, mail and the daemon, left to keepalived.
model::Status parse_global_defs(const Statement& s, KeepalivedConfig& out) {
    bool others = false, fifos = false;
    for (const auto& k : s.block) {
        const std::string& n = k.name();
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
    if (others)
        out.warnings.push_back(s.where().str() + ": global_defs ignored" +
                               (fifos ? std::string(" but for its notify FIFOs") : std::string()) +
                               " (VRRP is left to keepalived)");
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

    LocalAddressGroups groups;
    for (const auto& s : *top) {
        if (s.name() != "local_address_group") continue;
        auto g = parse_local_address_group(s, out.warnings);
        if (!g) return g.error();
        if (!groups.emplace(s.args[0].text, std::move(*g)).second)
            return error_at(s.where(), s.name(), "a second group named '" + s.args[0].text + "'");
    }
    for (const auto& s : *top) {
        const std::string& n = s.name();
        if (n == "local_address_group") continue;
        if (n == "global_defs") {
            if (auto e = parse_global_defs(s, out)) return *e;
        } else if (n == "virtual_server") {
            auto vs = parse_virtual_server(s, groups, out.warnings);
            if (!vs) return vs.error();
            if (auto e = check_service(vs->service, vs->health)) return *e;
            for (std::size_t i = 0; i < out.services.size(); ++i)
                if (out.services[i].key == vs->service.key)
                    return error_at(s.where(), n, "the same service as the virtual_server at " +
                                                      out.health[i].where.str());
            vs->health.key = vs->service.key;
            out.services.push_back(std::move(vs->service));
            out.health.push_back(std::move(vs->health));
        } else if (n == "virtual_server_group") {
            return error_at(s.where(), n, "not supported yet");
        } else if (left_to_keepalived(n)) {
            bool vrrp = n.starts_with("vrrp_");
            out.warnings.push_back(s.where().str() + ": " + n + " ignored (" +
                                   (vrrp ? "VRRP is left to keepalived" : "left to keepalived") + ")");
        } else {
            return error_at(s.where(), n, "unknown keyword");
        }
    }
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
