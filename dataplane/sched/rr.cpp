// Round robin, as IPVS's ip_vs_rr.c: continue after the last chosen server, skip servers
// with weight 0, wrap once.
#include "dataplane/sched/scheduler.hpp"

namespace dplb {

int schedule_rr(const ServiceSnap& svc, SchedState& state) {
    int n = int(svc.reals.size());
    for (int k = 1; k <= n; ++k) {
        int i = (state.last + k) % n;  // last = -1 starts at the first server
        if (real_available(svc.reals[size_t(i)])) {
            state.last = i;
            return i;
        }
    }
    return -1;
}

}  // namespace dplb
