#include "control/keepalived/virtual_server.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "control/keepalived/checker.hpp"
#include "control/keepalived/values.hpp"

namespace dplb::keepalived {

namespace {

using config::ForwardMethod;

model::Status one(const Statement& s) { return want_args(s, 1); }

template <class T, class U>
model::Status set(model::Result<T> r, U& into) {
    if (!r) return r.error();
    into = *r;
    return std::nullopt;
}

std::optional<ForwardMethod> lb_kind(const std::string& v) {
    if (v == "NAT") return ForwardMethod::nat;
    if (v == "DR") return ForwardMethod::dr;
    if (v == "TUN") return ForwardMethod::tunnel;
    if (v == "FNAT") return ForwardMethod::fullnat;
    return std::nullopt;
}

// `real_server IP [PORT] { ... }`, its port as written (0 when omitted, as keepalived reads
// "0"): place_port gives each service its own.
model::Status parse_real(const Statement& s, double delay_loop, config::Service& svc, VirtualServerHealth& health) {
    if (s.args.empty() || s.args.size() > 2)
        return error_at(s.where(), s.name(), "needs an address and a port: real_server IP PORT { ... }");
    auto addr = address_arg(s, 0);
    if (!addr) return addr.error();
    uint16_t port = 0;
    if (s.args.size() == 2) {
        auto p = port_arg(s, 1);
        if (!p) return p.error();
        port = *p;
    }
    config::RealServer rs{.address = *addr, .port = port};
    RealServerHealth h{.where = s.where(), .address = *addr, .port = port};
    h.inhibit_on_failure = health.inhibit_on_failure;
    std::optional<double> rs_warmup;
    for (const auto& k : s.block) {
        const std::string& n = k.name();
        model::Status e;
        if (n == "weight") e = one(k) ? one(k) : set(integer_arg(k, 0, 0, 65535), rs.weight);
        else if (n == "inhibit_on_failure") e = flag(k) ? flag(k) : (h.inhibit_on_failure = true, std::nullopt);
        else if (n == "notify_up") e = set(rest_arg(k, 0), h.notify_up);
        else if (n == "notify_down") e = set(rest_arg(k, 0), h.notify_down);
        else if (n == "uthreshold") e = one(k) ? one(k) : set(integer_arg(k, 0, 0, 2147483647), rs.upper_threshold);
        else if (n == "lthreshold") e = one(k) ? one(k) : set(integer_arg(k, 0, 0, 2147483647), rs.lower_threshold);
        else if (n == "warmup") e = one(k) ? one(k) : set(seconds_arg(k, 0), rs_warmup);
        else if (checker_type(n)) {
            auto c = parse_checker(k, delay_loop);
            if (!c) return c.error();
            h.checkers.push_back(std::move(*c));
        } else e = error_at(k.where(), n, "unknown keyword in real_server");
        if (e) return e;
    }
    // keepalived 2.x: warmup on a real server is the default of its checkers.
    if (rs_warmup)
        for (auto& c : h.checkers)
            if (!c.warmup) c.warmup = *rs_warmup;
    h.weight = rs.weight;
    svc.reals.push_back(rs);
    health.reals.push_back(std::move(h));
    return std::nullopt;
}

// The port a real (or sorry) server written with `written` (0: none) has in the service `key`,
// keepalived's rules (validate_check_config): DR and TUN cannot change the port, so the
// server's is the service's (0 for a fwmark: the client's), whatever is written (keepalived
// resets it with a warning; in a group it only warns, IPVS ignoring a DR server's port);
// NAT (and FNAT) keep a written port, and a server without one gets the service's, which is
// what IPVS does with port 0 (ip_vs_schedule: `dest->port ? dest->port : vport`); a fwmark
// service's stays 0, the client's port.
uint16_t place_port(const config::ServiceKey& key, ForwardMethod forward, uint16_t written) {
    bool same_port = forward == ForwardMethod::dr || forward == ForwardMethod::tunnel;
    if (key.is_fwmark()) return same_port ? 0 : written;
    if (same_port) return key.port;
    return written ? written : key.port;
}

const char* method_name(ForwardMethod f) {
    switch (f) {
        case ForwardMethod::nat: return "NAT";
        case ForwardMethod::dr: return "DR";
        case ForwardMethod::tunnel: return "TUN";
        case ForwardMethod::fullnat: return "FNAT";
    }
    return "?";
}

// What `virtual_server` names before its block: one key (protocol still unset) for `IP PORT`
// and `fwmark N`; the group's name for `group NAME`.
struct Head {
    config::ServiceKey key;
    std::optional<std::string> group;
};

model::Result<Head> service_head(const Statement& s) {
    Head head;
    config::ServiceKey& key = head.key;
    if (!s.args.empty() && s.args[0].text == "group") {
        if (s.args.size() != 2)
            return error_at(s.where(), s.name(), "needs a group name: virtual_server group NAME { ... }");
        head.group = s.args[1].text;
        return head;
    }
    if (s.args.size() == 2 && s.args[0].text == "fwmark") {
        auto m = integer_arg(s, 1, 1, 0xffffffffu);
        if (!m) return m.error();
        key.fwmark = *m;
        return head;
    }
    if (s.args.size() != 2)
        return error_at(s.where(), s.name(), "needs 'IP PORT', 'fwmark N' or 'group NAME' before its block");
    auto a = address_arg(s, 0);
    if (!a) return a.error();
    auto p = port_arg(s, 1);
    if (!p) return p.error();
    key.address = *a;
    key.port = *p;
    return head;
}

// The services one virtual_server block stands for, with the group entry each comes from.
struct Target {
    config::ServiceKey key;
    const GroupEntry* entry = nullptr;
};

}  // namespace

model::Result<std::vector<ParsedVirtualServer>> parse_virtual_server(const Statement& s, const LocalAddressGroups& groups,
                                                                     const VirtualServerGroups& vs_groups,
                                                                     std::vector<std::string>& warnings) {
    auto head = service_head(s);
    if (!head) return head.error();
    if (!s.has_block) return error_at(s.where(), s.name(), "needs a block { ... }");
    const VirtualServerGroup* group = nullptr;
    if (head->group) {
        auto g = vs_groups.find(*head->group);
        if (g == vs_groups.end())
            return error_at(s.where(), s.name(), "no virtual_server_group named '" + *head->group + "'");
        group = &g->second;
    }
    // The block is read once into `svc` and `h`, without their key; each service is a copy.
    config::Service svc;
    VirtualServerHealth h;
    h.where = s.where();
    const config::ServiceKey& key = head->key;
    const std::string vs_name = group               ? "virtual_server group " + *head->group
                                : key.is_fwmark()   ? "virtual_server fwmark " + std::to_string(key.fwmark)
                                                    : "virtual_server " + key.address.str() + " " + std::to_string(key.port);
    std::optional<ForwardMethod> forward;
    std::optional<config::Protocol> protocol;
    std::optional<config::Scheduler> scheduler;
    std::optional<uint32_t> persistence_timeout;
    std::optional<Ip4> granularity;
    std::optional<std::string> laddr_group;
    std::optional<std::string> virtualhost;
    std::optional<Location> granularity_at;
    std::optional<Location> sorry_at;
    // real_server blocks may come before inhibit_on_failure: read them after the service's keywords.
    std::vector<const Statement*> reals;
    for (const auto& k : s.block) {
        const std::string& n = k.name();
        model::Status e;
        if (n == "real_server") reals.push_back(&k);
        else if (n == "delay_loop") e = one(k) ? one(k) : set(seconds_arg(k, 0), h.delay_loop);
        else if (n == "lb_algo" || n == "lvs_sched") {
            if (!(e = one(k))) {
                scheduler = config::parse_scheduler(k.args[0].text);
                if (!scheduler)
                    e = error_at(k.where(), n, "unknown scheduler '" + k.args[0].text +
                                                   "' (rr wrr lc wlc sed nq sh dh lblc lblcr fo ovf mh)");
            }
        } else if (n == "lb_kind" || n == "lvs_method") {
            if (k.args.empty()) e = error_at(k.where(), n, "needs NAT, DR, TUN or FNAT");
            else if (!(e = one(k))) {
                forward = lb_kind(k.args[0].text);
                if (!forward) e = error_at(k.where(), n, "'" + k.args[0].text + "' is not one of NAT, DR, TUN, FNAT");
            }
        } else if (n == "persistence_timeout") {
            e = one(k) ? one(k) : set(integer_arg(k, 0, 1, 2000000), persistence_timeout);
        } else if (n == "persistence_granularity") {
            e = one(k) ? one(k) : set(address_arg(k, 0), granularity);
            granularity_at = k.where();
        } else if (n == "protocol") {
            if (!(e = one(k))) {
                const std::string& v = k.args[0].text;
                if (v == "TCP") protocol = config::Protocol::tcp;
                else if (v == "UDP") protocol = config::Protocol::udp;
                else if (v == "SCTP") e = error_at(k.where(), n, "SCTP is not supported");
                else e = error_at(k.where(), n, "'" + v + "' is not one of TCP, UDP");
            }
        } else if (n == "ha_suspend") e = flag(k) ? flag(k) : (h.ha_suspend = true, std::nullopt);
        else if (n == "alpha") e = flag(k) ? flag(k) : (h.alpha = true, std::nullopt);
        else if (n == "omega") e = flag(k) ? flag(k) : (h.omega = true, std::nullopt);
        else if (n == "quorum") e = one(k) ? one(k) : set(integer_arg(k, 0, 1, 0xffffffffu), h.quorum);
        else if (n == "hysteresis") e = one(k) ? one(k) : set(integer_arg(k, 0, 0, 0xffffffffu), h.hysteresis);
        else if (n == "quorum_up") e = set(rest_arg(k, 0), h.quorum_up);
        else if (n == "quorum_down") e = set(rest_arg(k, 0), h.quorum_down);
        else if (n == "sorry_server") {
            sorry_at = k.where();
            if (!(e = want_args(k, 2))) {
                auto a = address_arg(k, 0);
                auto p = port_arg(k, 1);
                if (!a) e = a.error();
                else if (!p) e = p.error();
                else {
                    bool inhibit = h.sorry_server && h.sorry_server->inhibit;
                    h.sorry_server = SorryServer{*a, *p, inhibit};
                }
            }
        } else if (n == "sorry_server_inhibit") {
            if (!(e = flag(k))) {
                if (!h.sorry_server) h.sorry_server = SorryServer{};
                h.sorry_server->inhibit = true;
            }
        } else if (n == "inhibit_on_failure") e = flag(k) ? flag(k) : (h.inhibit_on_failure = true, std::nullopt);
        else if (n == "laddr_group_name") e = one(k) ? one(k) : (laddr_group = k.args[0].text, std::nullopt);
        else if (n == "virtualhost") e = one(k) ? one(k) : (virtualhost = k.args[0].text, std::nullopt);
        else e = error_at(k.where(), n, "unknown keyword in virtual_server");
        if (e) return *e;
    }
    if (h.sorry_server && h.sorry_server->address.is_zero())
        return error_at(s.where(), s.name(), "sorry_server_inhibit without a sorry_server");
    for (const Statement* r : reals)
        if (auto e = parse_real(*r, h.delay_loop, svc, h)) return *e;
    if (virtualhost)
        for (auto& rh : h.reals)
            for (auto& c : rh.checkers)
                if ((c.type == CheckerType::http || c.type == CheckerType::ssl) && !c.virtualhost) c.virtualhost = virtualhost;

    std::vector<Target> targets;
    if (group) {
        for (const auto& entry : group->entries) {
            if (entry.fwmark) {
                config::ServiceKey k;
                k.fwmark = *entry.fwmark;
                targets.push_back(Target{k, &entry});
                continue;
            }
            for (uint64_t a = entry.first.host(); a <= entry.last.host(); ++a) {
                config::ServiceKey k;
                k.address = Ip4::from_host(uint32_t(a));
                k.port = entry.port;
                targets.push_back(Target{k, &entry});
            }
        }
    } else {
        targets.push_back(Target{key, nullptr});
    }
    bool any_address = std::any_of(targets.begin(), targets.end(), [](const Target& t) { return !t.key.is_fwmark(); });

    if (any_address && !protocol)
        warnings.push_back(s.where().str() + ": " + vs_name + ": no protocol set; UDP, as keepalived 2.2 defaults");
    if (!scheduler) warnings.push_back(s.where().str() + ": " + vs_name + ": no lb_algo set; wlc, as keepalived");
    svc.scheduler = scheduler.value_or(config::Scheduler::wlc);
    if (!forward) warnings.push_back(s.where().str() + ": " + vs_name + ": no lb_kind set; NAT, as keepalived");
    const ForwardMethod method = forward.value_or(ForwardMethod::nat);
    for (auto& rs : svc.reals) rs.forward = method;
    if (persistence_timeout) {
        svc.persistence = config::Persistence{.timeout = *persistence_timeout};
        if (granularity) svc.persistence->netmask = *granularity;
    } else if (granularity) {
        warnings.push_back(granularity_at->str() + ": persistence_granularity without persistence_timeout ignored");
    }
    if (laddr_group) {
        auto g = groups.find(*laddr_group);
        if (g == groups.end())
            return error_at(s.where(), "laddr_group_name", "no local_address_group named '" + *laddr_group + "'");
        svc.local_addresses = g->second;
        if (forward != ForwardMethod::fullnat)
            warnings.push_back(s.where().str() + ": " + vs_name + ": laddr_group_name ignored (lb_kind is not FNAT)");
        if (forward != ForwardMethod::fullnat) svc.local_addresses.clear();
    }

    // Each service, its servers' ports placed; a port dropped or replaced is warned of once
    // per group entry (a range's addresses share the warning).
    std::vector<ParsedVirtualServer> out;
    out.reserve(targets.size());
    std::set<std::string> said;
    auto warn_once = [&](std::string w) {
        if (said.insert(w).second) warnings.push_back(std::move(w));
    };
    for (const Target& t : targets) {
        ParsedVirtualServer p{svc, h, {}, {}};
        config::ServiceKey& k = p.service.key;
        k = t.key;
        if (!k.is_fwmark()) k.protocol = protocol.value_or(config::Protocol::udp);
        p.health.key = k;
        // How warnings name the service: the group entry it comes from, or the virtual server.
        std::string of = t.entry ? vs_name + " entry '" + t.entry->text + "' (" + t.entry->where.str() + ")" : vs_name;
        if (t.entry) {
            p.group = *head->group;
            p.origin = "group " + *head->group + " entry '" + t.entry->text + "' (" + t.entry->where.str() + ")";
        }
        if (k.is_fwmark())
            warn_once(s.where().str() + ": " + of +
                      ": dplb marks no packets itself: the service gets the packets of dplb's port group " +
                      std::to_string(k.fwmark) + " (dplbadm --add-mark), which must exist when it is applied");
        const std::string service_port = k.is_fwmark() ? std::string("port 0 (the client's)")
                                                        : "the service's port " + std::to_string(k.port);
        for (std::size_t i = 0; i < p.service.reals.size(); ++i) {
            auto& rs = p.service.reals[i];
            auto& rh = p.health.reals[i];
            uint16_t written = rs.port;
            rs.port = rh.port = place_port(k, method, written);
            if (written == 0 || rs.port == written) continue;
            // keepalived's checkers were given the real server's address and port as written.
            for (auto& c : rh.checkers)
                if (!c.connect_port) c.connect_port = written;
            warn_once(rh.where.str() + ": real_server " + rs.address.str() + " " + std::to_string(written) + ": " +
                      method_name(method) + " keeps the client's port: " + of + " sends to " + service_port +
                      ", as keepalived; its checkers still connect to port " + std::to_string(written));
        }
        if (h.sorry_server) {
            uint16_t port = place_port(k, method, h.sorry_server->port);
            if (h.sorry_server->port != 0 && port != h.sorry_server->port)
                warn_once(sorry_at.value_or(s.where()).str() + ": sorry_server " + h.sorry_server->address.str() + " " +
                          std::to_string(h.sorry_server->port) + ": " + method_name(method) +
                          " keeps the client's port: " + of + " sends to " + service_port + ", as keepalived");
            p.health.sorry_server->port = port;
            // keepalived gives the sorry server the virtual server's lb_kind (sorry_server_lvs_method
            // is not read here: an unknown keyword).
            p.service.sorry_server = config::SorryServer{h.sorry_server->address, port, method, h.sorry_server->inhibit};
        }
        out.push_back(std::move(p));
    }
    return out;
}

model::Result<std::vector<Ip4>> parse_local_address_group(const Statement& s, std::vector<std::string>& warnings) {
    if (s.args.size() != 1 || !s.has_block)
        return error_at(s.where(), s.name(), "needs a name and a block: local_address_group NAME { IP ... }");
    std::vector<Ip4> out;
    for (const auto& k : s.block) {
        if (k.has_block) return error_at(k.where(), k.name(), "unexpected block in local_address_group");
        const std::string& text = k.name();
        auto dash = text.find('-');
        auto first = Ip4::parse(text.substr(0, dash));
        if (!first) return error_at(k.where(), "local_address_group", "bad address '" + text + "'");
        uint32_t last = first->host() & 0xff;
        if (dash != std::string::npos) {
            std::string_view tail = std::string_view(text).substr(dash + 1);
            auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), last);
            if (tail.empty() || ec != std::errc() || p != tail.data() + tail.size() || last > 255 ||
                last < (first->host() & 0xff))
                return error_at(k.where(), "local_address_group", "bad address range '" + text + "'");
        }
        for (uint32_t b = first->host() & 0xff; b <= last; ++b)
            out.push_back(Ip4::from_host((first->host() & ~0xffu) | b));
        if (k.args.size() > 1) return error_at(k.where(), "local_address_group", "unexpected '" + k.args[1].text + "'");
        if (k.args.size() == 1)
            warnings.push_back(k.where().str() + ": local_address_group " + s.args[0].text + ": interface '" +
                               k.args[0].text + "' ignored (dplb finds the port by the address)");
    }
    if (out.empty()) return error_at(s.where(), s.name(), "has no address");
    return out;
}

namespace {

// "192.168.1.10-20": the last byte up to 20, above the first's (keepalived: "Address range
// end is not greater than address range start"; "end '300' too large").
// "192.168.1.250-192.168.2.10": any range, its end not below its start.
// "192.168.1.8/29": the network's addresses, its host bits zero (keepalived: "Address mask
// bits not empty").
model::Status address_range(const Location& where, const std::string& text, GroupEntry& e) {
    auto bad = [&](const std::string& why) { return error_at(where, "virtual_server_group", why); };
    if (text.find(':') != std::string::npos)
        return bad("IPv6 address '" + text + "' is not supported (dplb is IPv4 only)");
    auto number = [](std::string_view x, uint32_t max) -> std::optional<uint32_t> {
        uint32_t v = 0;
        auto [p, ec] = std::from_chars(x.data(), x.data() + x.size(), v);
        if (x.empty() || ec != std::errc() || p != x.data() + x.size() || v > max) return std::nullopt;
        return v;
    };
    auto cut = text.find_first_of("-/");
    auto first = Ip4::parse(text.substr(0, cut));
    if (!first) return bad("bad address '" + text + "'");
    e.first = e.last = *first;
    if (cut == std::string::npos) return std::nullopt;
    std::string_view tail = std::string_view(text).substr(cut + 1);
    if (text[cut] == '/') {
        auto len = number(tail, 32);
        if (!len || *len == 0) return bad("bad network '" + text + "' (a prefix length of 1 to 32)");
        uint32_t host_bits = *len == 32 ? 0 : 0xffffffffu >> *len;
        if (first->host() & host_bits)
            return bad("network '" + text + "' has host bits set (" +
                       Ip4::from_host(first->host() & ~host_bits).str() + "/" + std::to_string(*len) + "?)");
        e.last = Ip4::from_host(first->host() | host_bits);
        return std::nullopt;
    }
    if (tail.find('.') != std::string_view::npos) {
        auto last = Ip4::parse(std::string(tail));
        if (!last) return bad("bad address range '" + text + "'");
        if (last->host() < first->host()) return bad("address range '" + text + "' ends before it starts");
        e.last = *last;
        return std::nullopt;
    }
    auto last = number(tail, 0xffffffffu);
    if (!last) return bad("bad address range '" + text + "'");
    uint32_t start = first->host() & 0xff;
    if (*last > 255)
        return bad("address range '" + text + "' goes past the last byte's 255 (write the end address in full: IP-IP)");
    if (*last <= start) return bad("address range '" + text + "' does not end above its start");
    e.last = Ip4::from_host((first->host() & ~0xffu) | *last);
    return std::nullopt;
}

model::Result<GroupEntry> group_entry(const Statement& k) {
    GroupEntry e;
    e.where = k.where();
    e.text = k.name();
    for (const auto& a : k.args) e.text += " " + a.text;
    auto bad = [&](const std::string& why) { return error_at(k.where(), "virtual_server_group", why); };
    if (k.has_block) return bad("unexpected block after '" + e.text + "'");
    if (k.name() == "fwmark") {
        if (k.args.empty() || k.args.size() > 2) return bad("needs 'fwmark N [inet]', not '" + e.text + "'");
        auto m = integer_arg(k, 0, 1, 0xffffffffu);
        if (!m) return m.error();
        e.fwmark = *m;
        if (k.args.size() == 2) {
            const std::string& family = k.args[1].text;
            if (family == "inet6") return bad("'" + e.text + "': IPv6 is not supported (dplb is IPv4 only)");
            if (family != "inet") return bad("'" + e.text + "': unknown address family '" + family + "' (inet)");
        }
        return e;
    }
    if (k.args.size() > 1) return bad("unexpected '" + k.args[1].text + "' after '" + k.name() + " " + k.args[0].text + "'");
    if (auto err = address_range(k.where(), k.name(), e)) return *err;
    if (k.args.size() == 1) {
        auto p = port_arg(k, 0);
        if (!p) return bad("bad port '" + k.args[0].text + "' in '" + e.text + "'");
        e.port = *p;
    }
    return e;
}

}  // namespace

model::Result<VirtualServerGroup> parse_virtual_server_group(const Statement& s) {
    if (s.args.size() != 1 || !s.has_block)
        return error_at(s.where(), s.name(), "needs a name and a block: virtual_server_group NAME { IP [PORT] ... }");
    const std::string& name = s.args[0].text;
    VirtualServerGroup g{s.where(), {}};
    uint64_t services = 0;
    for (const auto& k : s.block) {
        auto e = group_entry(k);
        if (!e) return e.error();
        services += e->size();
        if (services > max_group_services)
            return error_at(k.where(), s.name(),
                            name + ": more than " + std::to_string(max_group_services) +
                                " services (the dataplane's default max_services) by '" + e->text + "'");
        g.entries.push_back(std::move(*e));
    }
    if (g.entries.empty()) return error_at(s.where(), s.name(), name + " has no entries");
    return g;
}

}  // namespace dplb::keepalived
