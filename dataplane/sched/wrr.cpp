// Weighted round robin, step for step IPVS's ip_vs_wrr.c (ip_vs_wrr_schedule): a current
// weight `cw` walks down from the max weight in steps of the weights' gcd; each pass over the
// list picks servers whose weight >= cw. Weights 4,3,2 give A A B A B C A B C.
#include <numeric>

#include "dataplane/sched/scheduler.hpp"

namespace dplb {

void prepare_wrr(ServiceSnap& svc) {
    int32_t g = 0, maxw = 0;
    for (const auto& r : svc.reals) {
        int32_t w = int32_t(r.weight);
        if (w > 0) g = g > 0 ? std::gcd(w, g) : w;
        if (w > maxw) maxw = w;
    }
    svc.sched.wrr_di = g ? g : 1;
    svc.sched.wrr_mw = maxw - (svc.sched.wrr_di - 1);
}

int schedule_wrr(SchedContext& ctx) {
    const ServiceSnap& svc = ctx.svc;
    SchedState& st = ctx.state;
    const int n = int(svc.reals.size());
    const int32_t di = svc.sched.wrr_di, mw = svc.sched.wrr_mw;
    if (mw <= 0 || n == 0) return -1;
    const int last = st.last;  // -1 = the list head
    int stop = -2;             // none
    bool last_pass = false, restarted = false;
    int dest = st.last;
    for (;;) {
        for (int i = dest + 1; i < n; ++i) {
            if (int32_t(svc.reals[size_t(i)].weight) >= st.cw && ctx.available(size_t(i))) {
                st.last = i;
                return i;
            }
            if (i == stop) return -1;
        }
        dest = -1;
        st.cw -= di;
        if (st.cw <= 0) {
            st.cw = mw;
            if (last_pass || last == -1) return -1;
            restarted = true;
        }
        last_pass = st.cw <= di;
        if (last_pass && restarted && last != -1) stop = last;
    }
}

}  // namespace dplb
