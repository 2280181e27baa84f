// Choosing a real server for a new connection.
//
// The interface covers every IPVS scheduler: a scheduler sees the immutable service (real
// servers, weights, precomputed tables), its own per-worker mutable state, the packet's
// addresses (sh/dh/mh/lblc hash them) and the connection counts (lc/wlc/sed/nq/ovf).
// It runs once per new connection, never per packet.
//
// Threading: SchedState belongs to one worker (one per service id); the rest is read-only.
#pragma once

#include <cstdint>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/stats/worker_counters.hpp"

namespace dplb {

// Per-worker, per-service scheduler memory. Reset whenever the service's version changes.
struct SchedState {
    uint64_t version = 0;
    int32_t last = -1;        // rr: last chosen; wrr: IPVS's `cl` (-1 = list head)
    int32_t cw = 0;           // wrr: current weight
    uint32_t laddr_cursor = 0;  // FULLNAT: next local address to try
};

struct ScheduleInput {
    uint32_t saddr, daddr;  // network order
    uint16_t sport, dport;
};

// Index of the chosen real server in svc.reals, or -1 when none can take the connection.
int schedule(const ServiceSnap& svc, SchedState& state, const ScheduleInput& in,
             const CounterArray<RealCounters>& load);

// The schedulers, one file each. `state` is already reset for svc.version.
int schedule_rr(const ServiceSnap& svc, SchedState& state);
int schedule_wrr(const ServiceSnap& svc, SchedState& state);

// wrr's precomputed values for a set of weights (IPVS ip_vs_wrr_gcd_weight/max_weight).
void wrr_prepare(ServiceSnap& svc);

inline bool real_available(const RealSnap& r) { return r.weight > 0; }

}  // namespace dplb
