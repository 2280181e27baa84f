// Destination hashing, as IPVS's ip_vs_dh.c: the packet's destination address picks one of
// 256 buckets, assigned to the servers in turn, one each (IPVS's dh ignores weights when it
// fills the buckets). A bucket whose server is unavailable (weight 0, overloaded) gives no
// server; dh has no fallback.
#include "dataplane/sched/buckets.hpp"
#include "dataplane/sched/scheduler.hpp"

namespace dplb {

void prepare_dh(ServiceSnap& svc) { assign_buckets(svc, false); }

int schedule_dh(SchedContext& ctx) {
    const std::vector<int32_t>& b = ctx.svc.sched.buckets;
    if (b.size() != hash_buckets) return -1;
    int32_t d = b[bucket_of(ctx.in.daddr, 0, 0)];
    return d >= 0 && ctx.available(size_t(d)) ? d : -1;
}

}  // namespace dplb
