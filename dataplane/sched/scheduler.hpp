// Choosing a real server for a new connection.
//
// The interface covers every IPVS scheduler: a scheduler sees the immutable service (real
// servers, weights, precomputed tables), its own per-worker mutable state, the packet's
// addresses (sh/dh/mh/lblc hash them), connection counts summed over workers (lc/wlc/sed/
// nq/ovf/lblc/lblcr) and whether each server is available (weight > 0 and not over its
// connection threshold). It runs once per new connection, never per packet.
//
// Threading: SchedState, SchedScratch and OverloadFlags belong to one worker; the service
// and its tables are read-only. prepare_scheduler() touches only the service it is given, so
// the snapshot builder may run it for different services on different threads at once.
//
// Every scheduler mirrors its IPVS namesake (net/netfilter/ipvs/ip_vs_<name>.c): the order
// servers are compared in, which one wins a tie, and which servers it skips. svc.reals is in
// the order of IPVS's svc->destinations list.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/sched/load.hpp"
#include "dataplane/session/time.hpp"

namespace dplb {

// Per-worker, per-service scheduler memory. Reset whenever the service's version changes.
struct SchedState {
    uint64_t version = 0;
    int32_t last = -1;          // rr: last chosen; wrr: IPVS's `cl` (-1 = list head)
    int32_t cw = 0;             // wrr: current weight
    uint32_t laddr_cursor = 0;  // FULLNAT: next local address to try
};

struct ScheduleInput {
    uint32_t saddr, daddr;  // network order
    uint16_t sport, dport;  // network order
    Tick now = 0;           // lblc/lblcr: cache entry ages (IPVS's jiffies)
};

// IPVS's IP_VS_DEST_F_OVERLOAD per real server id, as seen by one worker: set when the
// server's connections reach its upper threshold, cleared below the lower threshold (or
// below 3/4 of the upper one when no lower threshold is set).
class OverloadFlags {
public:
    explicit OverloadFlags(uint32_t max_reals) : flags_(max_reals, 0) {}
    bool overloaded(const RealSnap& r, const ConnCounts& c);

private:
    std::vector<uint8_t> flags_;
};

// Everything a scheduler may look at for one decision.
class SchedContext {
public:
    SchedContext(const ServiceSnap& service, SchedState& sched_state, const ScheduleInput& input, unsigned worker_index,
                 const LoadBoard& load, OverloadFlags& overload)
        : svc(service), state(sched_state), in(input), worker(worker_index), load_(load), overload_(overload) {}

    const ServiceSnap& svc;
    SchedState& state;
    const ScheduleInput& in;
    const unsigned worker;

    size_t size() const { return svc.reals.size(); }
    const RealSnap& real(size_t i) const { return svc.reals[i]; }
    ConnCounts counts(size_t i) const { return load_.counts(svc.reals[i].id); }
    // weight > 0 and not overloaded.
    bool available(size_t i) const;
    SchedScratch* scratch() const {
        return worker < svc.sched_scratch.size() ? svc.sched_scratch[worker].get() : nullptr;
    }

private:
    const LoadBoard& load_;
    OverloadFlags& overload_;
};

// Index of the chosen real server in svc.reals, or -1 when none can take the connection.
int schedule(SchedContext& ctx);

// Precomputes svc.sched (tables) and allocates svc.sched_scratch for `nworkers`. Called by
// the snapshot builder, off the fast path (mh tables of many services in parallel).
void prepare_scheduler(ServiceSnap& svc, unsigned nworkers);

// IPVS keeps an lblc/lblcr service's destination cache when the service or its servers are
// edited. Called after prepare_scheduler(next) with the ServiceSnap `next` replaces, it makes
// `next` share prev's per-worker caches (same scheduler and worker count; otherwise nothing
// happens and `next` starts empty). Safe while workers use `prev`: it copies pointers only,
// and each worker's cache is used by that worker alone, under whichever version it runs.
void carry_scheduler_state(ServiceSnap& next, const ServiceSnap& prev);

// The schedulers, one file each. `ctx.state` is already reset for the service's version.
int schedule_rr(SchedContext& ctx);
int schedule_wrr(SchedContext& ctx);
int schedule_lc(SchedContext& ctx);
int schedule_wlc(SchedContext& ctx);
int schedule_sed(SchedContext& ctx);
int schedule_nq(SchedContext& ctx);
int schedule_fo(SchedContext& ctx);
int schedule_ovf(SchedContext& ctx);
int schedule_sh(SchedContext& ctx);
int schedule_dh(SchedContext& ctx);
int schedule_mh(SchedContext& ctx);
int schedule_lblc(SchedContext& ctx);
int schedule_lblcr(SchedContext& ctx);

// Table builders, called by prepare_scheduler().
void prepare_wrr(ServiceSnap& svc);
void prepare_sh(ServiceSnap& svc);
void prepare_dh(ServiceSnap& svc);
void prepare_mh(ServiceSnap& svc);
void prepare_locality(ServiceSnap& svc, unsigned nworkers);  // lblc, lblcr

}  // namespace dplb
