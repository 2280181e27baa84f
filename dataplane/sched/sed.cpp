// Shortest expected delay, as IPVS's ip_vs_sed.c: the available server with the smallest
// (active + 1) / weight (inactive connections do not count); ties go to the first.
#include "dataplane/sched/least.hpp"

namespace dplb {

int schedule_sed(SchedContext& ctx) { return least_loaded(ctx, {.overhead = Overhead::active_next}); }

}  // namespace dplb
