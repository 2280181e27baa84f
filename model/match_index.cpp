#include "model/match_index.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

namespace {

bool indexed(const cfg::ServiceKey& k) { return !k.is_fwmark() && k.port != 0; }

}  // namespace

void MatchIndex::add_service(const cfg::ServiceKey& k) {
    if (indexed(k)) services_.emplace(uint8_t(k.protocol), k.address.host(), k.port);
}

void MatchIndex::remove_service(const cfg::ServiceKey& k) {
    if (indexed(k)) services_.erase(Point{uint8_t(k.protocol), k.address.host(), k.port});
}

void MatchIndex::add_match(const cfg::PortMatch& m, uint32_t mark) {
    matches_[Point{uint8_t(m.protocol), m.address.host(), m.first_port}] = Interval{m.last_port, mark};
}

void MatchIndex::remove_match(const cfg::PortMatch& m) {
    matches_.erase(Point{uint8_t(m.protocol), m.address.host(), m.first_port});
}

void MatchIndex::clear() {
    services_.clear();
    matches_.clear();
}

std::optional<MatchIndex::Found> MatchIndex::overlapping(const cfg::PortMatch& m) const {
    // Intervals are disjoint, so the last one starting at or below m's last port reaches
    // furthest among those that could intersect m.
    auto it = matches_.upper_bound(Point{uint8_t(m.protocol), m.address.host(), m.last_port});
    if (it == matches_.begin()) return std::nullopt;
    --it;
    auto [proto, address, first] = it->first;
    if (proto != uint8_t(m.protocol) || address != m.address.host() || it->second.last < m.first_port)
        return std::nullopt;
    cfg::PortMatch found{m.protocol, m.address, first, it->second.last};
    return Found{it->second.mark, found};
}

std::optional<MatchIndex::Found> MatchIndex::covering(const cfg::ServiceKey& k) const {
    if (!indexed(k)) return std::nullopt;
    return overlapping(cfg::PortMatch{k.protocol, k.address, k.port, k.port});
}

std::optional<cfg::ServiceKey> MatchIndex::covered_service(const cfg::PortMatch& m) const {
    auto it = services_.lower_bound(Point{uint8_t(m.protocol), m.address.host(), m.first_port});
    if (it == services_.end() || *it > Point{uint8_t(m.protocol), m.address.host(), m.last_port}) return std::nullopt;
    return cfg::ServiceKey{m.protocol, m.address, std::get<2>(*it), 0};
}

}  // namespace dplb::model
