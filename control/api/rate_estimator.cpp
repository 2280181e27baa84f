#include "control/api/rate_estimator.hpp"

#include <cmath>
#include <set>

namespace dplb::api {

namespace {

int64_t scaled_rate(uint64_t delta, int shift, double seconds) {
    return int64_t(std::llround(double(delta) * double(int64_t(1) << shift) / seconds));
}

// ip_vs_est.c: avg += (rate - avg) >> 2, an arithmetic shift.
void smooth(int64_t& avg, int64_t rate) { avg += (rate - avg) >> 2; }

}  // namespace

nlohmann::json to_json(const Rates& r) {
    return {{"cps", r.cps}, {"inpps", r.inpps}, {"outpps", r.outpps}, {"inbps", r.inbps}, {"outbps", r.outbps}};
}

void RateEstimator::update(Estimate& e, const model::Counters& now, double seconds) {
    if (model::any_below(now, e.last)) {  // the dataplane restarted
        e = Estimate{now};
        return;
    }
    model::Counters d = model::minus(now, e.last);
    smooth(e.cps, scaled_rate(d.conns, 10, seconds));
    smooth(e.inpps, scaled_rate(d.inpkts, 10, seconds));
    smooth(e.outpps, scaled_rate(d.outpkts, 10, seconds));
    smooth(e.inbps, scaled_rate(d.inbytes, 5, seconds));
    smooth(e.outbps, scaled_rate(d.outbytes, 5, seconds));
    e.last = now;
}

Rates RateEstimator::read(const Estimate& e) {
    auto unscale = [](int64_t v, int shift) { return v <= 0 ? 0 : uint64_t((v + (int64_t(1) << (shift - 1)) - 1) >> shift); };
    return Rates{unscale(e.cps, 10), unscale(e.inpps, 10), unscale(e.outpps, 10), unscale(e.inbps, 5),
                 unscale(e.outbps, 5)};
}

void RateEstimator::sample(const model::StatsSnapshot& stats, Clock::time_point now) {
    double seconds = 0;
    if (last_sample_) seconds = std::chrono::duration<double>(now - *last_sample_).count();
    last_sample_ = now;
    auto feed = [&](auto& map, const auto& id, const model::Counters& c) {
        auto [it, fresh] = map.try_emplace(id, Estimate{c});
        if (!fresh && seconds > 0) update(it->second, c, seconds);
        else if (!fresh) it->second.last = c;
    };
    for (const auto& s : stats.services) {
        model::ServiceId sid = model::service_id(s.key);
        feed(services_, sid, s.stats);
        for (const auto& r : s.reals) feed(reals_, RealId{sid, r.address.host(), r.port}, r.stats);
    }
}

Rates RateEstimator::service(const config::ServiceKey& key) const {
    auto it = services_.find(model::service_id(key));
    return it == services_.end() ? Rates{} : read(it->second);
}

Rates RateEstimator::real(const config::ServiceKey& key, Ip4 address, uint16_t port) const {
    auto it = reals_.find(RealId{model::service_id(key), address.host(), port});
    return it == reals_.end() ? Rates{} : read(it->second);
}

void RateEstimator::zero(const std::optional<config::ServiceKey>& only) {
    auto reset = [](Estimate& e) { e = Estimate{e.last}; };
    std::optional<model::ServiceId> sid;
    if (only) sid = model::service_id(*only);
    for (auto& [id, e] : services_)
        if (!sid || id == *sid) reset(e);
    for (auto& [id, e] : reals_)
        if (!sid || std::get<0>(id) == *sid) reset(e);
}

void RateEstimator::forget(const config::ServiceKey& key) {
    model::ServiceId sid = model::service_id(key);
    services_.erase(sid);
    // RealIds sort by service first: the service's real servers are one range.
    auto first = reals_.lower_bound(RealId{sid, 0, 0});
    auto last = first;
    while (last != reals_.end() && std::get<0>(last->first) == sid) ++last;
    reals_.erase(first, last);
}

void RateEstimator::retain(const config::Config& config) {
    std::set<model::ServiceId> services;
    std::set<RealId> reals;
    for (const auto& s : config.services) {
        model::ServiceId sid = model::service_id(s.key);
        services.insert(sid);
        for (const auto& r : s.reals) reals.insert(RealId{sid, r.address.host(), r.port});
    }
    std::erase_if(services_, [&](const auto& entry) { return !services.contains(entry.first); });
    std::erase_if(reals_, [&](const auto& entry) { return !reals.contains(entry.first); });
}

}  // namespace dplb::api
