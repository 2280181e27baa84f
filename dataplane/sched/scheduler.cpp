#include "dataplane/sched/scheduler.hpp"

namespace dplb {

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
    case config::Scheduler::lc:
        return schedule_lc(ctx);
    case config::Scheduler::wlc:
        return schedule_wlc(ctx);
    case config::Scheduler::sed:
        return schedule_sed(ctx);
    case config::Scheduler::nq:
        return schedule_nq(ctx);
    case config::Scheduler::sh:
        return schedule_sh(ctx);
    case config::Scheduler::dh:
        return schedule_dh(ctx);
    case config::Scheduler::lblc:
        return schedule_lblc(ctx);
    case config::Scheduler::lblcr:
        return schedule_lblcr(ctx);
    case config::Scheduler::fo:
        return schedule_fo(ctx);
    case config::Scheduler::ovf:
        return schedule_ovf(ctx);
    case config::Scheduler::mh:
        return schedule_mh(ctx);
    }
    return -1;
}

void prepare_scheduler(ServiceSnap& svc, unsigned nworkers) {
    svc.sched = SchedTables{};
    svc.sched_scratch.clear();
    prepare_wrr(svc);
    switch (svc.scheduler) {
    case config::Scheduler::sh:
        prepare_sh(svc);
        break;
    case config::Scheduler::dh:
        prepare_dh(svc);
        break;
    case config::Scheduler::mh:
        prepare_mh(svc);
        break;
    case config::Scheduler::lblc:
    case config::Scheduler::lblcr:
        prepare_locality(svc, nworkers);
        break;
    default:
        break;
    }
}

}  // namespace dplb
