// Source hashing, as IPVS's ip_vs_sh.c: the client address (and, with sh-port, its port)
// picks one of 256 buckets spread over the servers by weight. A bucket whose server is
// unavailable (weight 0, overloaded) gives no server, unless sh-fallback is set: then the
// buckets are tried in IPVS's order until an available server turns up.
#include "dataplane/sched/buckets.hpp"
#include "dataplane/sched/scheduler.hpp"

namespace dplb {

void prepare_sh(ServiceSnap& svc) { assign_buckets(svc, true); }

int schedule_sh(SchedContext& ctx) {
    const std::vector<int32_t>& b = ctx.svc.sched.buckets;
    if (b.size() != hash_buckets) return -1;
    const uint32_t addr = ctx.in.saddr;
    const uint16_t port = ctx.svc.sched_flags & config::sched_flag_sh_port ? __builtin_bswap16(ctx.in.sport) : 0;
    const uint32_t ihash = bucket_of(addr, port, 0);
    int32_t d = b[ihash];
    if (d < 0) return -1;
    if (ctx.available(size_t(d))) return d;
    if (!(ctx.svc.sched_flags & config::sched_flag_sh_fallback)) return -1;
    // ip_vs_sh_get_fallback: offsets from the original hash, each hashed again.
    for (uint32_t offset = 0; offset < hash_buckets; ++offset) {
        uint32_t roffset = (offset + ihash) % hash_buckets;
        d = b[bucket_of(addr, port, roffset)];
        if (d < 0) break;
        if (ctx.available(size_t(d))) return d;
    }
    return -1;
}

}  // namespace dplb
