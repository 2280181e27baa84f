// Which packets a port-group match takes: how matches overlap each other and address
// services. A packet may belong to one service only, so validation refuses both.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "dplb/config.hpp"

namespace dplb::model {

// Same protocol and address, and the port ranges intersect.
inline bool overlaps(const config::PortMatch& a, const config::PortMatch& b) {
    return a.protocol == b.protocol && a.address == b.address && a.first_port <= b.last_port &&
           b.first_port <= a.last_port;
}

// `m` takes the packets of the address service `key` (port 0 services take whatever no
// other service takes, so they never collide with a match).
inline bool covers(const config::PortMatch& m, const config::ServiceKey& key) {
    return !key.is_fwmark() && key.port != 0 && m.protocol == key.protocol && m.address == key.address &&
           m.first_port <= key.port && key.port <= m.last_port;
}

struct MatchRef {
    std::size_t group = 0;
    std::size_t match = 0;
    friend bool operator==(const MatchRef&, const MatchRef&) = default;
};

// The first match in `config` (in group order, then match order) that overlaps `m`, other
// than `skip`.
std::optional<MatchRef> find_overlap(const config::Config& config, const config::PortMatch& m,
                                     std::optional<MatchRef> skip = std::nullopt);
// The first match that covers the address service `key`.
std::optional<MatchRef> find_covering(const config::Config& config, const config::ServiceKey& key);
// The first address service whose packets `m` would take, or nullptr.
const config::Service* find_covered_service(const config::Config& config, const config::PortMatch& m);

// "port group 66's tcp 10.0.0.1:80 (port_groups[0].matches[1])", for error messages.
std::string describe_match(const config::Config& config, MatchRef ref);

}  // namespace dplb::model
