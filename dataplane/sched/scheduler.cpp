#include "dataplane/sched/scheduler.hpp"

namespace dplb {

int schedule(const ServiceSnap& svc, SchedState& state, const ScheduleInput& /*in*/,
             const CounterArray<RealCounters>& /*load*/) {
    if (state.version != svc.version) {
        uint32_t cursor = state.laddr_cursor;
        state = SchedState{};
        state.version = svc.version;
        state.laddr_cursor = cursor;
        state.cw = svc.wrr_mw;
    }
    switch (svc.scheduler) {
    case config::Scheduler::rr:
        return schedule_rr(svc, state);
    case config::Scheduler::wrr:
        return schedule_wrr(svc, state);
    default:
        return -1;  // configuration validation admits only implemented schedulers
    }
}

}  // namespace dplb
