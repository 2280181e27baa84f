// ipvsadm -S: the configuration as the command lines that rebuild it, in ipvsadm-save's form
// (`-A -t VIP:PORT -s rr`, `-a -t VIP:PORT -r RIP:PORT -m -w 1`) with dplb's extensions: the
// global --set first when it is not the default, port groups as --add-mark lines, and after
// each -A its local addresses (--add-laddr) and timeout overrides (--set ... -t VIP:PORT).
// Services and real servers are sorted as ipvsadm sorts them unless `sort` is false.
// It saves the intent, not the momentary health: every real server at its configured weight
// whatever the health checker says (runtime state), and no sorry server (ipvsadm's rules have
// no syntax for one).
#include <algorithm>
#include <vector>

#include "codec/config_json.hpp"
#include "model/sched_flags.hpp"
#include "model/service_id.hpp"
#include "tools/dplbadm/format.hpp"

namespace dplb::dplbadm {

namespace cfg = dplb::config;

namespace {

std::string service_option(const cfg::ServiceKey& k) {
    if (k.is_fwmark()) return "-f " + std::to_string(k.fwmark);
    return std::string(k.protocol == cfg::Protocol::udp ? "-u " : "-t ") + model::describe(k.address, k.port);
}

std::string forward_switch(cfg::ForwardMethod f) {
    switch (f) {
        case cfg::ForwardMethod::nat: return "-m";
        case cfg::ForwardMethod::fullnat: return "-b";
        case cfg::ForwardMethod::dr: return "-g";
        case cfg::ForwardMethod::tunnel: return "-i";
    }
    return "-g";
}

std::string add_service_line(const cfg::Service& s, const std::string& svc) {
    std::string out = "-A " + svc + " -s " + std::string(cfg::to_string(s.scheduler));
    if (s.persistence) {
        out += " -p " + std::to_string(s.persistence->timeout);
        if (s.persistence->netmask != cfg::Persistence{}.netmask) out += " -M " + s.persistence->netmask.str();
    }
    if (s.sched_flags) {
        std::string flags;
        for (std::string_view name : model::sched_flag_names(s.sched_flags))
            flags += (flags.empty() ? "" : ",") + std::string(name);
        out += " -b " + flags;
    }
    if (s.mh_table_size != cfg::Service{}.mh_table_size) out += " --mh-table-size " + std::to_string(s.mh_table_size);
    if (s.expire_nodest_conn) out += " --expire-nodest-conn";
    return out + "\n";
}

std::string add_real_line(const cfg::RealServer& r, const std::string& svc) {
    std::string out = "-a " + svc + " -r " + model::describe(r.address, r.port) + " " + forward_switch(r.forward) +
                      " -w " + std::to_string(r.weight);
    if (r.upper_threshold) out += " -x " + std::to_string(r.upper_threshold);
    if (r.lower_threshold) out += " -y " + std::to_string(r.lower_threshold);
    return out + "\n";
}

std::string match_option(const cfg::PortMatch& m) {
    std::string out = std::string(m.protocol == cfg::Protocol::udp ? "-u " : "-t ") + m.address.str() + ":" +
                      std::to_string(m.first_port);
    if (m.last_port != m.first_port) out += "-" + std::to_string(m.last_port);
    return out;
}

}  // namespace

std::string format_save(const cfg::Config& c, bool sort) {
    std::string out;
    const cfg::Timeouts& t = c.timeouts;
    if (!(t == cfg::Timeouts{}))
        out += "--set " + std::to_string(t.tcp) + " " + std::to_string(t.tcp_fin) + " " + std::to_string(t.udp) + "\n";
    for (const auto& g : c.port_groups)
        for (const auto& m : g.matches) out += "--add-mark -f " + std::to_string(g.mark) + " " + match_option(m) + "\n";

    std::vector<const cfg::Service*> services;
    for (const auto& s : c.services) services.push_back(&s);
    if (sort)
        std::stable_sort(services.begin(), services.end(), [](const cfg::Service* a, const cfg::Service* b) {
            return model::service_id(a->key) < model::service_id(b->key);
        });
    for (const cfg::Service* s : services) {
        std::string svc = service_option(s->key);
        out += add_service_line(*s, svc);
        for (Ip4 a : s->local_addresses) out += "--add-laddr -z " + a.str() + " " + svc + "\n";
        if (!s->timeouts.empty()) {
            auto v = [](const std::optional<uint32_t>& o) { return std::to_string(o.value_or(0)); };
            out += "--set " + v(s->timeouts.tcp) + " " + v(s->timeouts.tcp_fin) + " " + v(s->timeouts.udp) + " " + svc +
                   "\n";
        }
        std::vector<const cfg::RealServer*> reals;
        for (const auto& r : s->reals) reals.push_back(&r);
        if (sort)
            std::stable_sort(reals.begin(), reals.end(), [](const cfg::RealServer* a, const cfg::RealServer* b) {
                return std::pair(a->address.host(), a->port) < std::pair(b->address.host(), b->port);
            });
        for (const cfg::RealServer* r : reals) out += add_real_line(*r, svc);
    }
    return out;
}

}  // namespace dplb::dplbadm
