#include "dataplane/sched/scheduler.hpp"

namespace dplb {

void prepare_wrr(ServiceSnap& svc);

bool OverloadFlags::overloaded(const RealSnap& r, const ConnCounts& c) {
    uint8_t& f = flags_[r.id];
    uint64_t total = c.total();
    if (r.upper_threshold && total >= r.upper_threshold)
        f = 1;
    else if (f && (r.lower_threshold ? total < r.lower_threshold : total * 4 < uint64_t(r.upper_threshold) * 3))
        f = 0;
    if (!r.upper_threshold && !r.lower_threshold) f = 0;
    return f;
}

bool SchedContext::available(size_t i) const {
    const RealSnap& r = svc.reals[i];
    if (r.weight == 0) return false;
    if (!r.upper_threshold && !r.lower_threshold) return true;
    return !overload_.overloaded(r, load_.counts(r.id));
}

int schedule(SchedContext& ctx) {
    SchedState& st = ctx.state;
    if (st.version != ctx.svc.version) {
        uint32_t cursor = st.laddr_cursor;
        st = SchedState{};
        st.version = ctx.svc.version;
        st.laddr_cursor = cursor;
        st.cw = ctx.svc.sched.wrr_mw;
    }
    switch (ctx.svc.scheduler) {
    case config::Scheduler::rr:
        return schedule_rr(ctx);
    case config::Scheduler::wrr:
        return schedule_wrr(ctx);
    default:
        return -1;  // configuration validation admits only implemented schedulers
    }
}

void prepare_scheduler(ServiceSnap& svc, unsigned /*nworkers*/) {
    prepare_wrr(svc);
}

}  // namespace dplb
