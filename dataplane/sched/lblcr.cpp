// Locality-based least connection with replication, as IPVS's ip_vs_lblcr.c: a destination
// address keeps a set of servers. The set's least loaded available server (wlc's measure;
// ties to the newest member) is used unless it is "overloaded" in lblc's sense; then wlc
// picks from the whole service and the pick joins the set. A set of several servers that
// has not changed for the expiration time (24 hours) loses its most loaded member, once per
// scheduling call that finds it so.
//
// Sets hold at most lblcr_set_max servers (IPVS's grow without bound): a server joining a
// full set replaces its most loaded member.
#include <span>

#include "dataplane/sched/least.hpp"
#include "dataplane/sched/locality.hpp"

namespace dplb {

namespace {

// The set's members as indices into svc.reals, newest first. Members that left the service
// are dropped (IPVS keeps them, unavailable, until the set sheds them).
size_t members(const ServiceSnap& svc, LblcrEntry& en, int* idx) {
    size_t n = 0;
    for (size_t k = 0; k < en.size; ++k) {
        int i = real_index(svc, en.ids[k]);
        if (i < 0) continue;
        en.ids[n] = en.ids[k];
        idx[n++] = i;
    }
    en.size = uint8_t(n);
    return n;
}

// ip_vs_dest_set_max: the first member with a weight, then any later one with a weight and
// strictly more overhead per weight. Availability does not matter here.
int set_max(SchedContext& ctx, std::span<const int> idx) {
    int most = -1;
    uint64_t moh = 0, mw = 0;
    for (int i : idx) {
        uint64_t dw = ctx.real(size_t(i)).weight;
        if (dw == 0) continue;
        uint64_t doh = overhead(Overhead::conns, ctx.counts(size_t(i)));
        if (most < 0 || lighter(moh, mw, doh, dw)) {
            most = i;
            moh = doh;
            mw = dw;
        }
    }
    return most;
}

void erase(LblcrEntry& en, uint32_t id, Tick now) {
    for (size_t k = 0; k < en.size; ++k) {
        if (en.ids[k] != id) continue;
        for (size_t j = k + 1; j < en.size; ++j) en.ids[j - 1] = en.ids[j];
        --en.size;
        en.lastmod = now;
        return;
    }
}

// ip_vs_dest_set_insert with check: nothing if already a member, else at the front.
void insert(SchedContext& ctx, LblcrEntry& en, std::span<const int> idx, uint32_t id, Tick now) {
    for (size_t k = 0; k < en.size; ++k)
        if (en.ids[k] == id) return;
    if (en.size == lblcr_set_max) {
        int m = set_max(ctx, idx);
        erase(en, m >= 0 ? ctx.real(size_t(m)).id : en.ids[en.size - 1], now);
    }
    for (size_t k = en.size; k > 0; --k) en.ids[k] = en.ids[k - 1];
    en.ids[0] = id;
    ++en.size;
    en.lastmod = now;
}

}  // namespace

int schedule_lblcr(SchedContext& ctx) {
    SchedScratch* scratch = ctx.scratch();
    LblcrCache* cache = scratch ? scratch->lblcr.get() : nullptr;
    const Tick now = ctx.in.now;
    const LeastBy wlc{.overhead = Overhead::conns};
    if (cache) {
        cache->sweep(now);
        if (LblcrEntry* en = cache->find(ctx.in.daddr, now)) {
            en->lastuse = now;
            int idx[lblcr_set_max];
            std::span<const int> set(idx, members(ctx.svc, *en, idx));
            int d = least_loaded(ctx, set, wlc);
            if (en->size > 1 && Tick(now - en->lastmod) > locality_expiration_ms) {
                int m = set_max(ctx, set);
                if (m >= 0) erase(*en, ctx.real(size_t(m)).id, now);
                set = std::span<const int>(idx, members(ctx.svc, *en, idx));
            }
            if (d >= 0 && !locality_overloaded(ctx, size_t(d))) return d;
            d = least_loaded(ctx, wlc);
            if (d < 0) return -1;
            insert(ctx, *en, set, ctx.real(size_t(d)).id, now);
            return d;
        }
    }
    int d = least_loaded(ctx, wlc);
    if (d < 0) return -1;
    if (cache) {
        LblcrEntry& en = cache->claim(ctx.in.daddr, now);
        en.ids[0] = ctx.real(size_t(d)).id;
        en.size = 1;
        en.lastmod = now;
    }
    return d;
}

}  // namespace dplb
