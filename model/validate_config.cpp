// The rules across a whole configuration: unique service keys and marks, port-group matches
// that neither overlap nor take an address service's packets.
#include <algorithm>
#include <map>
#include <vector>

#include "model/describe.hpp"
#include "model/paths.hpp"
#include "model/port_matches.hpp"
#include "model/service_id.hpp"
#include "model/validate.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

namespace {

std::string match_path(const std::string& config_path, MatchRef ref) {
    return index_path(member_path(index_path(member_path(config_path, "port_groups"), ref.group), "matches"),
                      ref.match);
}

// Every match, ordered by (protocol, address, first port): overlaps are then neighbours and
// the match that may cover a service port is found by binary search. 10,000 matches are fine.
struct Interval {
    uint8_t protocol;
    uint32_t address;
    uint16_t first, last;
    MatchRef ref;
};

std::vector<Interval> sorted_intervals(const cfg::Config& c) {
    std::vector<Interval> out;
    for (std::size_t g = 0; g < c.port_groups.size(); ++g)
        for (std::size_t k = 0; k < c.port_groups[g].matches.size(); ++k) {
            const auto& m = c.port_groups[g].matches[k];
            out.push_back({uint8_t(m.protocol), m.address.host(), m.first_port, m.last_port, {g, k}});
        }
    auto key = [](const Interval& i) { return std::tuple(i.protocol, i.address, i.first, i.ref.group, i.ref.match); };
    std::sort(out.begin(), out.end(), [&](const Interval& a, const Interval& b) { return key(a) < key(b); });
    return out;
}

Status check_port_groups(const cfg::Config& c, const std::string& path, const std::vector<Interval>& sorted) {
    const std::string groups = member_path(path, "port_groups");
    std::map<uint32_t, std::size_t> marks;
    for (std::size_t g = 0; g < c.port_groups.size(); ++g) {
        if (auto e = validate_port_group(c.port_groups[g], index_path(groups, g))) return e;
        auto [it, fresh] = marks.try_emplace(c.port_groups[g].mark, g);
        if (!fresh)
            return Error{member_path(index_path(groups, g), "mark"),
                         "duplicate port group mark " + std::to_string(c.port_groups[g].mark) + " (also port_groups[" +
                             std::to_string(it->second) + "])"};
    }
    // Each interval only needs comparing with the one reaching furthest among those before it
    // on the same protocol and address.
    const Interval* reach = nullptr;
    for (const auto& i : sorted) {
        if (reach && reach->protocol == i.protocol && reach->address == i.address && i.first <= reach->last) {
            // Blame the later of the two in configuration order.
            MatchRef a = reach->ref, b = i.ref;
            if (std::tie(b.group, b.match) < std::tie(a.group, a.match)) std::swap(a, b);
            return Error{match_path(path, b), describe(c.port_groups[b.group].matches[b.match]) + " overlaps " +
                                                  describe_match(c, a) + "; a packet can belong to one service only"};
        }
        if (!reach || reach->protocol != i.protocol || reach->address != i.address || i.last > reach->last) reach = &i;
    }
    return std::nullopt;
}

std::optional<MatchRef> covering(const std::vector<Interval>& sorted, const cfg::ServiceKey& k) {
    if (k.is_fwmark() || k.port == 0) return std::nullopt;
    // The last interval starting at or below the port; intervals do not overlap (checked first).
    auto it = std::upper_bound(sorted.begin(), sorted.end(), std::tuple(uint8_t(k.protocol), k.address.host(), k.port),
                               [](const auto& v, const Interval& i) { return v < std::tuple(i.protocol, i.address, i.first); });
    if (it == sorted.begin()) return std::nullopt;
    --it;
    if (it->protocol == uint8_t(k.protocol) && it->address == k.address.host() && it->last >= k.port) return it->ref;
    return std::nullopt;
}

}  // namespace

Status validate_port_group(const cfg::PortGroup& g, const std::string& path) {
    if (g.mark == 0) return Error{member_path(path, "mark"), "must be between 1 and 4294967295"};
    const std::string matches = member_path(path, "matches");
    if (g.matches.empty()) return Error{matches, "a port group needs at least one match"};
    for (std::size_t k = 0; k < g.matches.size(); ++k) {
        const auto& m = g.matches[k];
        const std::string mp = index_path(matches, k);
        if (auto e = check_unicast(m.address, member_path(mp, "address"))) return e;
        const std::string port = member_path(mp, m.first_port == m.last_port ? "port" : "port_range");
        if (m.first_port == 0 || m.last_port == 0) return Error{port, "ports must be between 1 and 65535"};
        if (m.first_port > m.last_port)
            return Error{port, "the range " + std::to_string(m.first_port) + "-" + std::to_string(m.last_port) +
                                   " ends before it starts"};
    }
    return std::nullopt;
}

Status validate_config(const cfg::Config& c, const std::string& path) {
    if (auto e = validate_timeouts(c.timeouts, member_path(path, "timeouts"))) return e;
    auto sorted = sorted_intervals(c);
    if (auto e = check_port_groups(c, path, sorted)) return e;
    const std::string services = member_path(path, "services");
    std::map<ServiceId, std::size_t> seen;  // 10,000 services is normal
    for (std::size_t i = 0; i < c.services.size(); ++i) {
        const auto& key = c.services[i].key;
        if (auto e = validate_service(c.services[i], index_path(services, i))) return e;
        auto [it, fresh] = seen.try_emplace(service_id(key), i);
        if (!fresh)
            return Error{index_path(services, i), "duplicate service " + describe(key) + " (also services[" +
                                                      std::to_string(it->second) + "])"};
        if (auto ref = covering(sorted, key))
            return Error{index_path(services, i), "service " + describe(key) + " is also matched by " +
                                                      describe_match(c, *ref) + "; a packet can belong to one service only"};
    }
    if (auto e = validate_sync_daemons(c.sync_daemons, member_path(path, "sync_daemons"))) return e;
    return std::nullopt;
}

}  // namespace dplb::model
