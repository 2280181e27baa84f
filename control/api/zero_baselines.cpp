#include "control/api/zero_baselines.hpp"

#include <set>

namespace dplb::api {

namespace {

// Subtracts the baseline stored under `id`, dropping it when it no longer applies.
template <class Map, class Id>
model::Counters adjust(Map& baselines, const Id& id, const model::Counters& now) {
    auto it = baselines.find(id);
    if (it == baselines.end()) return now;
    if (model::any_below(now, it->second)) {
        baselines.erase(it);
        return now;
    }
    return model::minus(now, it->second);
}

}  // namespace

void ZeroBaselines::zero(const model::StatsSnapshot& now, const std::optional<config::ServiceKey>& only) {
    forget(only);
    for (const auto& s : now.services) {
        if (only && !(s.key == *only)) continue;
        services_[id(s.key)] = s.stats;
        for (const auto& rs : s.reals) reals_[RealId{id(s.key), rs.address.host(), rs.port}] = rs.stats;
    }
}

void ZeroBaselines::forget(const std::optional<config::ServiceKey>& only) {
    if (!only) {
        services_.clear();
        reals_.clear();
        return;
    }
    ServiceId sid = id(*only);
    services_.erase(sid);
    // RealIds sort by service first: the service's real servers are one range.
    auto first = reals_.lower_bound(RealId{sid, 0, 0});
    auto last = first;
    while (last != reals_.end() && std::get<0>(last->first) == sid) ++last;
    reals_.erase(first, last);
}

void ZeroBaselines::retain(const config::Config& config) {
    std::set<ServiceId> keep;
    for (const auto& s : config.services) keep.insert(id(s.key));
    std::erase_if(services_, [&](const auto& entry) { return !keep.contains(entry.first); });
    std::erase_if(reals_, [&](const auto& entry) { return !keep.contains(std::get<0>(entry.first)); });
}

model::StatsSnapshot ZeroBaselines::subtract(const model::StatsSnapshot& now) {
    model::StatsSnapshot out = now;
    for (auto& s : out.services) {
        ServiceId sid = id(s.key);
        s.stats = adjust(services_, sid, s.stats);
        for (auto& rs : s.reals) rs.stats = adjust(reals_, RealId{sid, rs.address.host(), rs.port}, rs.stats);
    }
    return out;
}

}  // namespace dplb::api
