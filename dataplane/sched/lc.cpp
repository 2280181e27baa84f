// Least connection, as IPVS's ip_vs_lc.c: the available server with the smallest
// active * 256 + inactive; weights only exclude (0 = quiesced). Ties go to the first.
#include "dataplane/sched/least.hpp"

namespace dplb {

int schedule_lc(SchedContext& ctx) { return least_loaded(ctx, {.overhead = Overhead::conns, .weighted = false}); }

}  // namespace dplb
