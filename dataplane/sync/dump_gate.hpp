// Master side: how often a peer's full_table_request may start a dump. Any host that reaches
// the sync socket can send requests back to back, and each dump walks every worker's table;
// one dump per min_interval_ms bounds that work. A refused request is counted
// (SyncCounters::full_table_requests_refused); the backup asks again every
// SyncEngine::request_interval_ms (longer than min_interval_ms) until it gets its end marker.
//
// Threading: main lcore only (the sync engine).
#pragma once

#include "dataplane/session/time.hpp"

namespace dplb {

class DumpGate {
public:
    static constexpr Tick min_interval_ms = 4000;

    // True if a dump may start at `now` (and then none other before min_interval_ms).
    bool admit(Tick now) {
        if (started_ && !tick_reached(now, next_)) return false;
        started_ = true;
        next_ = now + min_interval_ms;
        return true;
    }

private:
    bool started_ = false;
    Tick next_ = 0;
};

}  // namespace dplb
