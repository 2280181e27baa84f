// ipvsadm --rate, estimated in the dataplane where the counters are (as IPVS estimates in the
// kernel, ip_vs_est.c): every 2 s the control thread sums each service's and real server's
// counters over the workers and moves its moving averages (model/rates.hpp). Nothing has to
// carry 10,000 services' counters out of the process to estimate them; `stats` replies carry
// the estimates with the counters.
//
// Estimates are kept by stable id (service ids, real-server ids), so a round costs one sum
// per configured object and no allocation. An id handed to a new object is forgotten when the
// snapshot that reuses it is published (forget_*).
//
// Threading: control thread only (its owner); reads the per-worker counters through the
// totals functions it is given.
#pragma once

#include <cstdint>
#include <vector>

#include "model/rates.hpp"

namespace dplb {

class RateTracker {
public:
    RateTracker(uint32_t max_services, uint32_t max_reals);

    // One estimation round at `now_seconds` (a monotonic clock) over the ids given, with
    // their counters. Call with every configured service (and its real servers) each round.
    void begin_round(double now_seconds);
    void service(uint32_t id, const model::Counters& now);
    void real(uint32_t id, const model::Counters& now);

    // The estimate, zero until an id was seen in two rounds.
    model::Rates service_rates(uint32_t id) const;
    model::Rates real_rates(uint32_t id) const;

    // ipvsadm -Z (ip_vs_zero_estimator): the estimate restarts from zero, counting from
    // `now`, the id's current counters.
    void reset_service(uint32_t id, const model::Counters& now);
    void reset_real(uint32_t id, const model::Counters& now);
    // An id handed to a new object: nothing of the old object's estimate is kept.
    void forget_service(uint32_t id);
    void forget_real(uint32_t id);

private:
    struct Slot {
        model::RateEstimate est;
        bool seen = false;  // est.last holds a value from an earlier round
    };
    void feed(std::vector<Slot>& slots, uint32_t id, const model::Counters& now);

    std::vector<Slot> services_, reals_;
    double last_round_ = -1;
    double seconds_ = 0;  // since the previous round, during a round (0: the first round)
};

}  // namespace dplb
