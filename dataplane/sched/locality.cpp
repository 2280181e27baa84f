#include "dataplane/sched/locality.hpp"

#include <algorithm>

namespace dplb {

void prepare_locality(ServiceSnap& svc, unsigned nworkers) {
    std::vector<uint64_t>& by_id = svc.sched.real_by_id;
    by_id.clear();
    for (size_t i = 0; i < svc.reals.size(); ++i) by_id.push_back(uint64_t(svc.reals[i].id) << 32 | i);
    std::sort(by_id.begin(), by_id.end());
    svc.sched_scratch.clear();
    for (unsigned w = 0; w < nworkers; ++w) {
        auto s = std::make_unique<SchedScratch>();
        if (svc.scheduler == config::Scheduler::lblc)
            s->lblc = std::make_shared<LblcCache>();
        else
            s->lblcr = std::make_shared<LblcrCache>();
        svc.sched_scratch.push_back(std::move(s));
    }
}

void carry_scheduler_state(ServiceSnap& next, const ServiceSnap& prev) {
    if (next.scheduler != prev.scheduler || next.sched_scratch.size() != prev.sched_scratch.size()) return;
    for (size_t w = 0; w < next.sched_scratch.size(); ++w) {
        const SchedScratch* from = prev.sched_scratch[w].get();
        SchedScratch* to = next.sched_scratch[w].get();
        if (!from || !to) continue;
        if (from->lblc && to->lblc) to->lblc = from->lblc;
        if (from->lblcr && to->lblcr) to->lblcr = from->lblcr;
    }
}

int real_index(const ServiceSnap& svc, uint32_t id) {
    const std::vector<uint64_t>& by_id = svc.sched.real_by_id;
    auto it = std::lower_bound(by_id.begin(), by_id.end(), uint64_t(id) << 32);
    if (it == by_id.end() || uint32_t(*it >> 32) != id) return -1;
    return int(uint32_t(*it));
}

bool locality_overloaded(SchedContext& ctx, size_t i) {
    if (ctx.counts(i).active <= ctx.real(i).weight) return false;
    for (size_t d = 0; d < ctx.size(); ++d)
        if (ctx.counts(d).active * 2 < ctx.real(d).weight) return true;
    return false;
}

}  // namespace dplb
