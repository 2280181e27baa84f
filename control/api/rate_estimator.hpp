// ipvsadm --rate for a dataplane that only reports cumulative counters: dplb-control samples
// them (every 2 s, like IPVS's estimation timer) and keeps, per service and real server, the
// exponentially weighted moving averages that the kernel's ip_vs_est.c keeps:
//
//   rate  = delta over the sampling interval, as a per-second rate scaled by 2^10 (connections,
//           packets) or 2^5 (bytes), so fractions of a unit survive;
//   avg  += (rate - avg) / 4                  (ip_vs_est.c: `e->cps += (rate - e->cps) >> 2`)
//   shown = (avg + 2^9 - 1) >> 10, or (avg + 2^4 - 1) >> 5 for bytes  (ip_vs_read_estimator)
//
// IPVS's interval is exactly 2 s; ours is whatever elapsed between two samples, so the rate
// is divided by the measured interval instead of shifted. A counter found below its previous
// sample (the dataplane restarted) restarts that estimate from zero.
//
// Threading: owned by the control process's single event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>

#include "model/service_id.hpp"
#include "model/stats.hpp"
#include "dplb/config.hpp"
#include "codec/stats_json.hpp"

namespace dplb::api {

// ipvsadm --rate's columns: connections, packets in/out and bytes in/out per second.
struct Rates {
    uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
    friend bool operator==(const Rates&, const Rates&) = default;
};

// {"cps":..,"inpps":..,"outpps":..,"inbps":..,"outbps":..}
nlohmann::json to_json(const Rates&);

class RateEstimator {
public:
    using Clock = std::chrono::steady_clock;

    // One sample of the dataplane's cumulative counters, taken at `now`.
    void sample(const model::StatsSnapshot& stats, Clock::time_point now);

    // Zero for what has not been sampled twice yet.
    Rates service(const config::ServiceKey& key) const;
    Rates real(const config::ServiceKey& key, Ip4 address, uint16_t port) const;

    // ipvsadm -Z: the estimates of `only` (or all) restart from zero.
    void zero(const std::optional<config::ServiceKey>& only);
    // Drops the estimates of services and real servers that are no longer configured.
    void retain(const config::Config& config);
    // Drops one removed service's estimates (and its real servers'): O(its real servers).
    void forget(const config::ServiceKey& key);

    std::size_t size() const { return services_.size() + reals_.size(); }

private:
    struct Estimate {
        model::Counters last;                          // the previous sample
        int64_t cps = 0, inpps = 0, outpps = 0;        // scaled by 2^10
        int64_t inbps = 0, outbps = 0;                 // scaled by 2^5
    };
    using RealId = std::tuple<model::ServiceId, uint32_t, uint16_t>;

    static void update(Estimate& e, const model::Counters& now, double seconds);
    static Rates read(const Estimate& e);

    std::optional<Clock::time_point> last_sample_;
    std::map<model::ServiceId, Estimate> services_;
    std::map<RealId, Estimate> reals_;
};

}  // namespace dplb::api
