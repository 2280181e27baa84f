// TSC to the fast path's millisecond Tick. One division per read; workers read it once per
// loop iteration, not per packet.
#pragma once

#include <rte_cycles.h>

#include "dataplane/session/time.hpp"

namespace dplb::runtime {

class Clock {
public:
    Clock() : start_(rte_get_tsc_cycles()), cycles_per_ms_(rte_get_tsc_hz() / 1000) {}
    Tick now() const { return Tick((rte_get_tsc_cycles() - start_) / cycles_per_ms_); }

private:
    uint64_t start_;
    uint64_t cycles_per_ms_;
};

}  // namespace dplb::runtime
