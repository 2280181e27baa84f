// ipvsadm -Z for a dataplane whose counters only ever grow: dplb-control remembers the
// counters at the time of `zero` and subtracts them when it shows counters.
//
// Threading: owned by the control process's single event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <tuple>

#include "model/service_id.hpp"
#include "model/stats.hpp"
#include "dplb/config.hpp"
#include "codec/stats_json.hpp"

namespace dplb::api {

class ZeroBaselines {
public:
    // From now on counters of `only` (or of every service) count from their value in `now`.
    void zero(const model::StatsSnapshot& now, const std::optional<config::ServiceKey>& only);
    // Forgets the baselines of `only` (or all): used when zeroing while the counters are unknown.
    void forget(const std::optional<config::ServiceKey>& only);
    // `now` with the baselines subtracted. A baseline that a counter has fallen below belongs
    // to a previous run of the dataplane and is dropped.
    model::StatsSnapshot subtract(const model::StatsSnapshot& now);

    // Drops the baselines of services that are no longer configured.
    void retain(const config::Config& config);

    std::size_t size() const { return services_.size() + reals_.size(); }

private:
    using ServiceId = model::ServiceId;
    using RealId = std::tuple<ServiceId, uint32_t, uint16_t>;
    static ServiceId id(const config::ServiceKey& k) { return model::service_id(k); }

    std::map<ServiceId, model::Counters> services_;
    std::map<RealId, model::Counters> reals_;
};

}  // namespace dplb::api
