// Round robin, as IPVS's ip_vs_rr.c: continue after the last chosen server, skip
// unavailable servers (weight 0, overloaded), wrap once.
#include "dataplane/sched/scheduler.hpp"

namespace dplb {

int schedule_rr(SchedContext& ctx) {
    int n = int(ctx.size());
    for (int k = 1; k <= n; ++k) {
        int i = (ctx.state.last + k) % n;  // last = -1 starts at the first server
        if (ctx.available(size_t(i))) {
            ctx.state.last = i;
            return i;
        }
    }
    return -1;
}

}  // namespace dplb
