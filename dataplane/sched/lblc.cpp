// Locality-based least connection, as IPVS's ip_vs_lblc.c: a destination address keeps the
// server it was first sent to (chosen as wlc does) while that server is in the service, has
// a weight and is not "overloaded" in lblc's own sense (more active connections than its
// weight while another server has fewer than half of its weight); otherwise wlc picks again
// and the cache remembers the new server. As in IPVS, a cached server over its connection
// threshold is still used: only a new pick skips overloaded servers.
#include "dataplane/sched/least.hpp"
#include "dataplane/sched/locality.hpp"

namespace dplb {

int schedule_lblc(SchedContext& ctx) {
    SchedScratch* scratch = ctx.scratch();
    LblcCache* cache = scratch ? scratch->lblc.get() : nullptr;
    const Tick now = ctx.in.now;
    LblcEntry* en = nullptr;
    if (cache) {
        cache->sweep(now);
        en = cache->find(ctx.in.daddr, now);
        if (en) {
            en->lastuse = now;
            int d = real_index(ctx.svc, en->real_id);
            if (d >= 0 && ctx.real(size_t(d)).weight > 0 && !locality_overloaded(ctx, size_t(d))) return d;
        }
    }
    int d = least_loaded(ctx, {.overhead = Overhead::conns});
    if (d < 0) return -1;
    if (cache) {
        if (!en) en = &cache->claim(ctx.in.daddr, now);
        en->real_id = ctx.real(size_t(d)).id;
    }
    return d;
}

}  // namespace dplb
