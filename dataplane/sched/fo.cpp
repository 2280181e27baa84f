// Weighted fail over, as IPVS's ip_vs_fo.c: the available server of the highest weight
// (the first of equals). Weight 0 and overloaded servers are skipped.
#include "dataplane/sched/least.hpp"

namespace dplb {

int schedule_fo(SchedContext& ctx) {
    return highest_weight(ctx, [](size_t) { return true; });
}

}  // namespace dplb
