// Overflow connection, as IPVS's ip_vs_ovf.c: the available server of the highest weight
// (the first of equals) among those whose active connections do not exceed their weight.
#include "dataplane/sched/least.hpp"

namespace dplb {

int schedule_ovf(SchedContext& ctx) {
    return highest_weight(ctx, [&](size_t i) { return ctx.counts(i).active <= ctx.real(i).weight; });
}

}  // namespace dplb
