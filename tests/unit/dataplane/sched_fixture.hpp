// A service and everything a scheduler looks at, for the scheduler tests: connection counts
// set by hand (one worker's gauges on a LoadBoard), the worker's overload flags and
// scheduler state, and packets described by their addresses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/sched/scheduler.hpp"

namespace dplb::test {

// Host-order dotted quad to network order.
inline uint32_t be_addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return __builtin_bswap32(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
}
inline uint16_t be_port(uint16_t p) { return __builtin_bswap16(p); }

struct SchedBench {
    static constexpr uint32_t first_id = 100;

    explicit SchedBench(config::Scheduler sched, std::vector<uint32_t> weights, unsigned nworkers = 1,
                        uint32_t sched_flags = 0, uint32_t mh_size = 65537)
        : load(nworkers) {
        svc.version = 1;
        svc.scheduler = sched;
        svc.sched_flags = sched_flags;
        svc.mh_table_size = mh_size;
        for (size_t i = 0; i < weights.size(); ++i) {
            RealSnap r;
            r.addr = be_addr(192, 168, 1, uint8_t(10 + i));
            r.port = be_port(80);
            r.weight = weights[i];
            r.id = first_id + uint32_t(i);
            svc.reals.push_back(r);
        }
        prepare_scheduler(svc, nworkers);
        load.attach(0, &counters);
    }

    // Sets real i's ActiveConn / InActConn as every worker sees them.
    void conns(size_t i, uint64_t active, uint64_t inactive = 0) {
        RealCounters& c = counters[svc.reals[i].id];
        set(c.active, active);
        set(c.inactive, inactive);
    }
    // Active connections of reals[0], reals[1], ... (no inactive ones).
    void actives(std::vector<uint64_t> active) {
        for (size_t i = 0; i < active.size(); ++i) conns(i, active[i]);
    }
    ConnCounts counts(size_t i) const { return load.counts(svc.reals[i].id); }
    void thresholds(size_t i, uint32_t upper, uint32_t lower = 0) {
        svc.reals[i].upper_threshold = upper;
        svc.reals[i].lower_threshold = lower;
    }

    int pick(const ScheduleInput& in, unsigned worker = 0) {
        SchedContext ctx(svc, state[worker], in, worker, load, overload[worker]);
        return schedule(ctx);
    }
    int pick_from(uint32_t saddr, uint16_t sport = 1234) { return pick({saddr, dst, be_port(sport), be_port(80)}); }
    int pick_to(uint32_t daddr, Tick now = 0, unsigned worker = 0) {
        return pick({client, daddr, be_port(1234), be_port(80), now}, worker);
    }
    // n choices, each then counted as one more active connection of the chosen server:
    // letters, A = reals[0], '-' for none.
    std::string run(int n) {
        std::string out;
        for (int k = 0; k < n; ++k) {
            int c = pick_from(client);
            out += c < 0 ? '-' : char('A' + c);
            if (c >= 0) conns(size_t(c), counts(size_t(c)).active + 1, counts(size_t(c)).inactive);
        }
        return out;
    }

    ServiceSnap svc;
    CounterArray<RealCounters> counters{1024};
    LoadBoard load;
    std::vector<OverloadFlags> overload = std::vector<OverloadFlags>(4, OverloadFlags(1024));
    SchedState state[4];
    uint32_t client = be_addr(10, 0, 0, 1);
    uint32_t dst = be_addr(172, 16, 0, 1);

private:
    static void set(Counter& c, uint64_t v) {
        uint64_t now = c.get();
        if (v > now) c.add(v - now);
        else c.sub(now - v);
    }
};

inline std::string letter(int c) { return c < 0 ? "-" : std::string(1, char('A' + c)); }

}  // namespace dplb::test
