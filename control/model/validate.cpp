#include "control/model/validate.hpp"

#include <map>
#include <tuple>

#include "control/model/config_json.hpp"
#include "control/model/json_reader.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

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
    return Error{field, "scheduler '" + std::string(cfg::to_string(s)) + "' is not supported yet (supported: " +
                            cfg::supported_scheduler_names() + ")"};
}

Status check_forward(cfg::ForwardMethod f, const std::string& field) {
    if (cfg::forward_supported(f)) return std::nullopt;
    return Error{field, "forward method '" + std::string(cfg::to_string(f)) +
                            "' is not supported yet (supported: nat, fullnat)"};
}

static Status check_range(uint64_t v, uint64_t min, uint64_t max, const std::string& field) {
    if (v >= min && v <= max) return std::nullopt;
    return Error{field, "must be between " + std::to_string(min) + " and " + std::to_string(max)};
}

Status validate_timeouts(const cfg::Timeouts& t, const std::string& path) {
    if (auto e = check_range(t.tcp, min_timeout, max_timeout, member_path(path, "tcp"))) return e;
    if (auto e = check_range(t.tcp_fin, min_timeout, max_timeout, member_path(path, "tcp_fin"))) return e;
    return check_range(t.udp, min_timeout, max_timeout, member_path(path, "udp"));
}

Status validate_real_server(const cfg::RealServer& rs, const std::string& path) {
    if (auto e = check_unicast(rs.address, member_path(path, "address"))) return e;
    if (auto e = check_range(rs.port, 1, 65535, member_path(path, "port"))) return e;
    if (auto e = check_range(rs.weight, 0, 65535, member_path(path, "weight"))) return e;
    // The dataplane does not mark servers overloaded yet: refuse rather than ignore them.
    if (rs.upper_threshold)
        return Error{member_path(path, "upper_threshold"), "connection thresholds are not supported yet"};
    if (rs.lower_threshold)
        return Error{member_path(path, "lower_threshold"), "connection thresholds are not supported yet"};
    return check_forward(rs.forward, member_path(path, "forward"));
}

Status validate_service(const cfg::Service& s, const std::string& path) {
    if (auto e = check_unicast(s.key.address, member_path(path, "address"))) return e;
    if (auto e = check_range(s.key.port, 1, 65535, member_path(path, "port"))) return e;
    if (auto e = check_scheduler(s.scheduler, member_path(path, "scheduler"))) return e;

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
        if (auto e = validate_real_server(rs, index_path(reals, i))) return e;
        auto [it, fresh] = seen.try_emplace({rs.address.host(), rs.port}, i);
        if (!fresh)
            return Error{index_path(reals, i), "duplicate real server " + describe(rs.address, rs.port) +
                                                   " (also real_servers[" + std::to_string(it->second) + "])"};
        any_fullnat = any_fullnat || rs.forward == cfg::ForwardMethod::fullnat;
    }
    if (any_fullnat && s.local_addresses.empty())
        return Error{laddrs, "service " + describe(s.key) +
                                 " has fullnat real servers but no local address (add one with --add-laddr)"};
    return std::nullopt;
}

Status validate_config(const cfg::Config& c, const std::string& path) {
    if (auto e = validate_timeouts(c.timeouts, member_path(path, "timeouts"))) return e;
    const std::string services = member_path(path, "services");
    std::map<std::tuple<uint8_t, uint32_t, uint16_t>, std::size_t> seen;  // 10,000 services is normal
    for (std::size_t i = 0; i < c.services.size(); ++i) {
        const auto& key = c.services[i].key;
        if (auto e = validate_service(c.services[i], index_path(services, i))) return e;
        auto [it, fresh] = seen.try_emplace({uint8_t(key.protocol), key.address.host(), key.port}, i);
        if (!fresh)
            return Error{index_path(services, i), "duplicate service " + describe(key) + " (also services[" +
                                                      std::to_string(it->second) + "])"};
    }
    return std::nullopt;
}

}  // namespace dplb::model
