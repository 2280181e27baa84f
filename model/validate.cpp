// The rules of one service and what it holds. Rules across services and port groups are in
// validate_config.cpp.
#include "model/validate.hpp"

#include <map>

#include "model/describe.hpp"
#include "model/paths.hpp"
#include "model/sched_flags.hpp"
#include "model/scheduling_set.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

namespace {

Status check_range(uint64_t v, uint64_t min, uint64_t max, const std::string& field) {
    if (v >= min && v <= max) return std::nullopt;
    return Error{field, "must be between " + std::to_string(min) + " and " + std::to_string(max)};
}

std::string name_of(cfg::Scheduler s) { return std::string(cfg::to_string(s)); }

}  // namespace

bool is_prime(uint32_t n) {
    if (n < 2) return false;
    for (uint32_t d = 2; uint64_t(d) * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}

bool is_contiguous_netmask(Ip4 mask) {
    uint32_t inverted = ~mask.host();  // host bits: must be 0...01...1
    return (inverted & (inverted + 1)) == 0;
}

Status check_unicast(Ip4 a, const std::string& field) {
    const char* why = nullptr;
    if (a.is_zero()) why = "unspecified";
    else if (a.host() == 0xffffffffu) why = "broadcast";
    else if ((a.host() >> 28) == 0xe) why = "multicast";
    if (!why) return std::nullopt;
    return Error{field, "'" + a.str() + "' is not a usable unicast address (" + why + ")"};
}

Status check_scheduler(cfg::Scheduler s, const std::string& field) {
    if (cfg::scheduler_supported(s)) return std::nullopt;
    return Error{field, "scheduler '" + name_of(s) + "' is not supported by this dataplane"};
}

Status check_forward(cfg::ForwardMethod f, const std::string& field) {
    if (cfg::forward_supported(f)) return std::nullopt;
    return Error{field, "forward method '" + std::string(cfg::to_string(f)) + "' is not supported by this dataplane"};
}

Status validate_timeouts(const cfg::Timeouts& t, const std::string& path) {
    if (auto e = check_range(t.tcp, min_timeout, max_timeout, member_path(path, "tcp"))) return e;
    if (auto e = check_range(t.tcp_fin, min_timeout, max_timeout, member_path(path, "tcp_fin"))) return e;
    return check_range(t.udp, min_timeout, max_timeout, member_path(path, "udp"));
}

Status validate_timeout_overrides(const cfg::TimeoutOverrides& t, const std::string& path) {
    for (auto [name, v] : {std::pair{"tcp", t.tcp}, std::pair{"tcp_fin", t.tcp_fin}, std::pair{"udp", t.udp}})
        if (v)
            if (auto e = check_range(*v, min_timeout, max_timeout, member_path(path, name))) return e;
    return std::nullopt;
}

Status validate_persistence(const cfg::Persistence& p, const std::string& path) {
    if (auto e = check_range(p.timeout, min_timeout, max_timeout, member_path(path, "timeout"))) return e;
    if (!is_contiguous_netmask(p.netmask))
        return Error{member_path(path, "netmask"), "'" + p.netmask.str() + "' is not a contiguous netmask"};
    return std::nullopt;
}

Status validate_service_key(const cfg::ServiceKey& k, bool persistent, const std::string& path) {
    if (k.is_fwmark()) {
        if (k.protocol != cfg::Protocol::tcp || !k.address.is_zero() || k.port != 0)
            return Error{member_path(path, "fwmark"),
                         "a fwmark service has no protocol, address or port (its port group says which packets it "
                         "gets)"};
        return std::nullopt;
    }
    if (auto e = check_unicast(k.address, member_path(path, "address"))) return e;
    if (k.port == 0 && !persistent)
        return Error{member_path(path, "port"), "port 0 (all ports) is only allowed for persistent services"};
    return std::nullopt;
}

Status validate_scheduler_options(const cfg::Service& s, const std::string& path) {
    const std::string flags = member_path(path, "sched_flags");
    if (s.sched_flags & ~all_sched_flags)
        return Error{flags, "unknown scheduler flag bits " + std::to_string(s.sched_flags & ~all_sched_flags)};
    for (uint32_t bit = 1; bit & all_sched_flags; bit <<= 1) {
        if (!(s.sched_flags & bit)) continue;
        auto flag = cfg::SchedFlag(bit);
        if (sched_flag_scheduler(flag) != s.scheduler)
            return Error{flags, std::string(sched_flag_name(flag)) + " only applies to the " +
                                    name_of(sched_flag_scheduler(flag)) + " scheduler (scheduler is " +
                                    name_of(s.scheduler) + ")"};
    }
    const std::string size = member_path(path, "mh_table_size");
    if (s.mh_table_size < min_mh_table_size || s.mh_table_size > max_mh_table_size || !is_prime(s.mh_table_size))
        return Error{size, std::to_string(s.mh_table_size) + " is not a prime between " +
                               std::to_string(min_mh_table_size) + " and " + std::to_string(max_mh_table_size)};
    if (s.scheduler != cfg::Scheduler::mh && s.mh_table_size != cfg::Service{}.mh_table_size)
        return Error{size, "only the mh scheduler has a lookup table (scheduler is " + name_of(s.scheduler) + ")"};
    return std::nullopt;
}

Status validate_real_server(const cfg::Service& svc, const cfg::RealServer& rs, const std::string& path) {
    if (auto e = check_unicast(rs.address, member_path(path, "address"))) return e;
    const std::string port = member_path(path, "port");
    bool any_port_service = svc.key.is_fwmark() || svc.key.port == 0;
    if (rs.port == 0 && !any_port_service)
        return Error{port, "port 0 (the client's destination port) is only allowed in fwmark and port-0 services"};
    bool same_port = rs.forward == cfg::ForwardMethod::dr || rs.forward == cfg::ForwardMethod::tunnel;
    if (same_port && rs.port != svc.key.port)
        return Error{port, std::string(cfg::to_string(rs.forward)) + " cannot change the port: the real server must use " +
                               (any_port_service ? std::string("port 0 (the client's port)")
                                                 : "the service's port " + std::to_string(svc.key.port)) +
                               ", not " + std::to_string(rs.port)};
    if (auto e = check_range(rs.weight, 0, 65535, member_path(path, "weight"))) return e;
    if (rs.dynamic_weight)
        if (auto e = check_range(*rs.dynamic_weight, 0, 65535, member_path(path, "dynamic_weight"))) return e;
    if (auto e = check_range(rs.upper_threshold, 0, max_threshold, member_path(path, "upper_threshold"))) return e;
    if (auto e = check_range(rs.lower_threshold, 0, max_threshold, member_path(path, "lower_threshold"))) return e;
    if (rs.upper_threshold && rs.lower_threshold > rs.upper_threshold)
        return Error{member_path(path, "lower_threshold"), "must not be above upper_threshold (" +
                                                               std::to_string(rs.upper_threshold) + ")"};
    return check_forward(rs.forward, member_path(path, "forward"));
}

Status validate_sorry_server(const cfg::Service& svc, const cfg::SorryServer& sorry, const std::string& path) {
    // The same rules as a real server's, which it stands in for.
    if (auto e = validate_real_server(svc, sorry_as_real(sorry), path)) return e;
    if (sorry.forward == cfg::ForwardMethod::fullnat && svc.local_addresses.empty())
        return Error{member_path(path, "forward"), "service " + describe(svc.key) +
                                                       " has no local address; a fullnat sorry server needs one "
                                                       "(add one with --add-laddr first)"};
    return std::nullopt;
}

Status validate_service(const cfg::Service& s, const std::string& path) {
    if (auto e = validate_service_key(s.key, s.persistence.has_value(), path)) return e;
    if (auto e = check_scheduler(s.scheduler, member_path(path, "scheduler"))) return e;
    if (auto e = validate_scheduler_options(s, path)) return e;
    if (s.persistence)
        if (auto e = validate_persistence(*s.persistence, member_path(path, "persistence"))) return e;
    if (auto e = validate_timeout_overrides(s.timeouts, member_path(path, "timeouts"))) return e;

    const std::string laddrs = member_path(path, "local_addresses");
    for (std::size_t i = 0; i < s.local_addresses.size(); ++i) {
        if (auto e = check_unicast(s.local_addresses[i], index_path(laddrs, i))) return e;
        for (std::size_t k = 0; k < i; ++k)
            if (s.local_addresses[k] == s.local_addresses[i])
                return Error{index_path(laddrs, i), "duplicate local address " + s.local_addresses[i].str() +
                                                        " (also local_addresses[" + std::to_string(k) + "])"};
    }

    const std::string reals = member_path(path, "real_servers");
    bool any_fullnat = false;
    std::map<std::pair<uint32_t, uint16_t>, std::size_t> seen;  // a service may have thousands
    for (std::size_t i = 0; i < s.reals.size(); ++i) {
        const auto& rs = s.reals[i];
        if (auto e = validate_real_server(s, rs, index_path(reals, i))) return e;
        auto [it, fresh] = seen.try_emplace({rs.address.host(), rs.port}, i);
        if (!fresh)
            return Error{index_path(reals, i), "duplicate real server " + describe(rs.address, rs.port) +
                                                   " (also real_servers[" + std::to_string(it->second) + "])"};
        any_fullnat = any_fullnat || rs.forward == cfg::ForwardMethod::fullnat;
    }
    if (any_fullnat && s.local_addresses.empty())
        return Error{laddrs, "service " + describe(s.key) +
                                 " has fullnat real servers but no local address (add one with --add-laddr)"};
    if (s.sorry_server)
        if (auto e = validate_sorry_server(s, *s.sorry_server, member_path(path, "sorry_server"))) return e;
    if (s.sorry_active && !s.sorry_server)
        return Error{member_path(path, "sorry_active"), "service " + describe(s.key) + " has no sorry server"};
    return std::nullopt;
}

}  // namespace dplb::model
