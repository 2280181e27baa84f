#include "control/keepalived/virtual_server.hpp"

#include <cctype>
#include <charconv>

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

// `real_server IP [PORT] { ... }`; an omitted port is the virtual server's, as keepalived.
model::Status parse_real(const Statement& s, const config::ServiceKey& key, config::Service& svc,
                         VirtualServerHealth& health) {
    if (s.args.empty() || s.args.size() > 2)
        return error_at(s.where(), s.name(), "needs an address and a port: real_server IP PORT { ... }");
    auto addr = address_arg(s, 0);
    if (!addr) return addr.error();
    uint16_t port = key.port;
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
            auto c = parse_checker(k);
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

model::Result<config::ServiceKey> service_key(const Statement& s) {
    config::ServiceKey key;
    if (!s.args.empty() && s.args[0].text == "group")
        return error_at(s.where(), s.name(), "virtual_server group (virtual_server_group) is not supported yet");
    if (s.args.size() == 2 && s.args[0].text == "fwmark") {
        auto m = integer_arg(s, 1, 1, 0xffffffffu);
        if (!m) return m.error();
        key.fwmark = *m;
        return key;
    }
    if (s.args.size() != 2)
        return error_at(s.where(), s.name(), "needs 'IP PORT' or 'fwmark N' before its block");
    auto a = address_arg(s, 0);
    if (!a) return a.error();
    auto p = port_arg(s, 1);
    if (!p) return p.error();
    key.address = *a;
    key.port = *p;
    return key;
}

}  // namespace

model::Result<ParsedVirtualServer> parse_virtual_server(const Statement& s, const LocalAddressGroups& groups,
                                                        std::vector<std::string>& warnings) {
    auto key = service_key(s);
    if (!key) return key.error();
    if (!s.has_block) return error_at(s.where(), s.name(), "needs a block { ... }");
    ParsedVirtualServer out;
    config::Service& svc = out.service;
    VirtualServerHealth& h = out.health;
    svc.key = *key;
    h.where = s.where();
    const std::string vs_name = key->is_fwmark() ? "virtual_server fwmark " + std::to_string(key->fwmark)
                                                 : "virtual_server " + key->address.str() + " " + std::to_string(key->port);
    std::optional<ForwardMethod> forward;
    std::optional<config::Protocol> protocol;
    std::optional<config::Scheduler> scheduler;
    std::optional<uint32_t> persistence_timeout;
    std::optional<Ip4> granularity;
    std::optional<std::string> laddr_group;
    std::optional<std::string> virtualhost;
    std::optional<Location> granularity_at;
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
        if (auto e = parse_real(*r, svc.key, svc, h)) return *e;
    if (virtualhost)
        for (auto& rh : h.reals)
            for (auto& c : rh.checkers)
                if ((c.type == CheckerType::http || c.type == CheckerType::ssl) && !c.virtualhost) c.virtualhost = virtualhost;

    if (!key->is_fwmark()) {
        if (!protocol)
            warnings.push_back(s.where().str() + ": " + vs_name + ": no protocol set; UDP, as keepalived 2.2 defaults");
        svc.key.protocol = protocol.value_or(config::Protocol::udp);
    } else {
        warnings.push_back(s.where().str() + ": " + vs_name +
                           ": dplb marks no packets itself: the service gets the packets of dplb's port group " +
                           std::to_string(key->fwmark) + " (dplbadm --add-mark), which must exist when it is applied");
    }
    if (!scheduler) warnings.push_back(s.where().str() + ": " + vs_name + ": no lb_algo set; wlc, as keepalived");
    svc.scheduler = scheduler.value_or(config::Scheduler::wlc);
    if (!forward) warnings.push_back(s.where().str() + ": " + vs_name + ": no lb_kind set; NAT, as keepalived");
    for (auto& rs : svc.reals) rs.forward = forward.value_or(ForwardMethod::nat);
    if (h.sorry_server) {
        // keepalived gives the sorry server the virtual server's lb_kind (sorry_server_lvs_method
        // is not read here: an unknown keyword).
        svc.sorry_server = config::SorryServer{h.sorry_server->address, h.sorry_server->port,
                                               forward.value_or(ForwardMethod::nat), h.sorry_server->inhibit};
    }
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

}  // namespace dplb::keepalived
