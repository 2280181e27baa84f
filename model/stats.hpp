// Traffic counters as the dataplane reports them (`stats` reply, docs/api.md) and as
// `list` shows them. Plain values; the JSON codec is in the same header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::model {

// ipvsadm --stats: connections scheduled, packets/bytes from clients (in) and to them (out).
struct Counters {
    uint64_t conns = 0;
    uint64_t inpkts = 0;
    uint64_t outpkts = 0;
    uint64_t inbytes = 0;
    uint64_t outbytes = 0;

    friend bool operator==(const Counters&, const Counters&) = default;
};

// True when any counter of `now` is smaller than in `base`: the dataplane restarted since
// `base` was taken, so `base` no longer applies.
bool any_below(const Counters& now, const Counters& base);
// now - base, member by member (callers check any_below first).
Counters minus(const Counters& now, const Counters& base);

// ipvsadm --rate's columns: connections, packets in/out and bytes in/out per second
// (model/rates.hpp says how they are estimated).
struct Rates {
    uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
    friend bool operator==(const Rates&, const Rates&) = default;
};

struct RealServerStats {
    Ip4 address;
    uint16_t port = 0;
    uint64_t active_conns = 0;
    uint64_t inactive_conns = 0;
    uint64_t persistent_conns = 0;  // persistence templates pointing at it (ipvsadm PersistConn)
    // Passive checks (see PassiveFailures), cumulative.
    uint64_t syn_timeouts = 0;
    uint64_t resets = 0;
    Counters stats;
    Rates rates;

    friend bool operator==(const RealServerStats&, const RealServerStats&) = default;
};

struct ServiceStats {
    config::ServiceKey key;
    Counters stats;
    Rates rates;
    std::vector<RealServerStats> reals;

    friend bool operator==(const ServiceStats&, const ServiceStats&) = default;
};

// The dataplane's `stats` reply: cumulative since the dataplane started.
struct StatsSnapshot {
    uint64_t generation = 0;
    std::vector<ServiceStats> services;

    friend bool operator==(const StatsSnapshot&, const StatsSnapshot&) = default;
};

// What the dataplane saw of one real server's new connections failing (its passive checks,
// the `passive-failures` reply): connections whose SYN it left unanswered, and connections it
// reset before ESTABLISHED. Cumulative since the dataplane started; NAT and FULLNAT servers
// only (with DR and TUN the dataplane never sees the server's side).
struct PassiveFailures {
    config::ServiceKey service;
    Ip4 address;
    uint16_t port = 0;  // host order
    uint64_t syn_timeouts = 0;
    uint64_t resets = 0;

    friend bool operator==(const PassiveFailures&, const PassiveFailures&) = default;
};

}  // namespace dplb::model
