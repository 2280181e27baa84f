// ipvsadm --rate: per service and real server, the exponentially weighted moving averages
// the kernel's ip_vs_est.c keeps, computed every 2 s from the cumulative counters:
//
//   rate  = delta over the interval, as a per-second rate scaled by 2^10 (connections,
//           packets) or 2^5 (bytes), so fractions of a unit survive;
//   avg  += (rate - avg) / 4                  (ip_vs_est.c: `e->cps += (rate - e->cps) >> 2`)
//   shown = (avg + 2^9 - 1) >> 10, or (avg + 2^4 - 1) >> 5 for bytes  (ip_vs_read_estimator)
//
// IPVS's interval is exactly 2 s; ours is whatever elapsed between two estimations, so the
// rate is divided by the measured interval instead of shifted. A counter found below its
// previous value (its id was reused) restarts that estimate from zero.
//
// The dataplane estimates (dataplane/stats/rate_tracker.hpp), where the counters are, as IPVS
// does in the kernel: nothing has to carry every counter out of the process every 2 s.
//
// Threading: plain values.
#pragma once

#include <cstdint>

#include "model/stats.hpp"

namespace dplb::model {

struct RateEstimate {
    Counters last;                            // the counters at the previous estimation
    int64_t cps = 0, inpps = 0, outpps = 0;   // scaled by 2^10
    int64_t inbps = 0, outbps = 0;            // scaled by 2^5
};

// One estimation step: `now` are the counters `seconds` after `e.last`.
void update_estimate(RateEstimate& e, const Counters& now, double seconds);
Rates read_estimate(const RateEstimate& e);

}  // namespace dplb::model
