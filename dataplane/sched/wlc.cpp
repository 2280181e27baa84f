// Weighted least connection, as IPVS's ip_vs_wlc.c: the available server with the smallest
// (active * 256 + inactive) / weight, compared as `loh * dw > doh * lw`; ties go to the first.
#include "dataplane/sched/least.hpp"

namespace dplb {

int schedule_wlc(SchedContext& ctx) { return least_loaded(ctx, {.overhead = Overhead::conns}); }

}  // namespace dplb
