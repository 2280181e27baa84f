// Maglev hashing, as IPVS's ip_vs_mh.c: the client address (and, with mh-port, its port)
// hashed into a Maglev table of mh_table_size positions (mh_table.hpp). A position whose
// server is unavailable (weight 0, overloaded) gives no server, unless mh-fallback is set:
// then IPVS's probe sequence (the hash of offset + port + address for offsets from the
// original position on) is followed until an available server turns up.
#include "dataplane/sched/mh_table.hpp"
#include "dataplane/sched/scheduler.hpp"

namespace dplb {

void prepare_mh(ServiceSnap& svc) {
    // IPVS builds from dest->last_weight, the latest non-zero weight, so that quiescing a
    // server (weight 0) keeps the table; the snapshot carries only the current weight.
    std::vector<uint32_t> weights;
    for (const RealSnap& r : svc.reals) weights.push_back(r.weight);
    svc.sched.mh_lookup = build_mh_table(svc.reals, weights, mh_usable_size(svc.mh_table_size));
}

int schedule_mh(SchedContext& ctx) {
    const std::vector<uint16_t>& table = ctx.svc.sched.mh_lookup;
    const uint32_t size = uint32_t(table.size());
    if (size == 0) return -1;
    const uint32_t addr = ctx.in.saddr;
    const uint16_t port = ctx.svc.sched_flags & config::sched_flag_mh_port ? __builtin_bswap16(ctx.in.sport) : 0;
    const uint32_t ihash = mh_hashkey(addr, port, 0, mh_key1) % size;
    uint16_t d = table[ihash];
    if (d == mh_none) return -1;
    if (ctx.available(d)) return d;
    if (!(ctx.svc.sched_flags & config::sched_flag_mh_fallback)) return -1;
    // IPVS walks up to `size` probes (one hash each) before giving up. When no server is
    // available at all the walk cannot succeed: answer at once, same result.
    bool any = false;
    for (size_t i = 0; i < ctx.size() && !any; ++i) any = ctx.available(i);
    if (!any) return -1;
    for (uint32_t offset = 0; offset < size; ++offset) {
        uint32_t roffset = (offset + ihash) % size;
        d = table[mh_hashkey(addr, port, roffset, mh_key1) % size];
        if (d == mh_none) break;
        if (ctx.available(d)) return d;
    }
    return -1;
}

}  // namespace dplb
