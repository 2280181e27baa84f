// Connection counts of real servers summed over every worker, for the dynamic schedulers
// (lc, wlc, sed, nq, ovf, lblc, lblcr) and connection thresholds.
//
// Each worker keeps its own ActiveConn/InActConn gauges per real server id; a scheduling
// decision reads every worker's gauge for the candidates (relaxed loads, once per new
// connection, never per packet). Each worker's count is exact; the sum can miss
// connections another worker is creating at that same instant, so two workers may both
// pick the least-loaded server in the same microsecond. IPVS on several CPUs has the same
// window between reading and binding.
//
// Threading: worker w calls attach(w, ...) once before it schedules anything; any worker
// calls counts(). A worker not attached yet counts as zero.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/stats/worker_counters.hpp"

namespace dplb {

struct ConnCounts {
    uint64_t active = 0;
    uint64_t inactive = 0;
    uint64_t total() const { return active + inactive; }
};

class LoadBoard {
public:
    explicit LoadBoard(unsigned nworkers) : workers_(nworkers) {}

    void attach(unsigned worker, const CounterArray<RealCounters>* counters) {
        workers_[worker].store(counters, std::memory_order_release);
    }
    ConnCounts counts(uint32_t real_id) const {
        ConnCounts c;
        for (const auto& w : workers_)
            if (const auto* a = w.load(std::memory_order_acquire)) {
                c.active += (*a)[real_id].active.get();
                c.inactive += (*a)[real_id].inactive.get();
            }
        return c;
    }

private:
    std::vector<std::atomic<const CounterArray<RealCounters>*>> workers_;
};

}  // namespace dplb
