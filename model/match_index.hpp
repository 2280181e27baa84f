// Address services and port-group matches ordered by (protocol, address, port), for the
// "a packet belongs to one service only" rule in O(log n) per check instead of a scan of
// every service and match. Matches never overlap in a valid configuration, so each is keyed
// by its first port.
//
// Threading: owned by one ConfigEditor; not shared.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "dplb/config.hpp"

namespace dplb::model {

class MatchIndex {
public:
    struct Found {
        uint32_t mark;
        config::PortMatch match;
    };

    // Services of port 0 and fwmark services are ignored: no match takes their packets.
    void add_service(const config::ServiceKey&);
    void remove_service(const config::ServiceKey&);
    void add_match(const config::PortMatch&, uint32_t mark);
    void remove_match(const config::PortMatch&);
    void clear();

    // The match that takes the packets of address service `key`.
    std::optional<Found> covering(const config::ServiceKey& key) const;
    // A match that shares a port with `m` (the one starting last at or below m's last port).
    std::optional<Found> overlapping(const config::PortMatch& m) const;
    // The address service of lowest port whose packets `m` would take.
    std::optional<config::ServiceKey> covered_service(const config::PortMatch& m) const;

private:
    using Point = std::tuple<uint8_t, uint32_t, uint16_t>;  // protocol, address (host order), port
    struct Interval {
        uint16_t last;
        uint32_t mark;
    };
    std::set<Point> services_;
    std::map<Point, Interval> matches_;  // by first port
};

}  // namespace dplb::model
