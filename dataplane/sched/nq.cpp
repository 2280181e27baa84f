// Never queue, as IPVS's ip_vs_nq.c: the first available server without active
// connections; if every one is busy, sed's choice ((active + 1) / weight, ties to the first).
#include "dataplane/sched/least.hpp"

namespace dplb {

int schedule_nq(SchedContext& ctx) {
    return least_loaded(ctx, {.overhead = Overhead::active_next, .idle_first = true});
}

}  // namespace dplb
