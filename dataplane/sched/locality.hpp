// The destination caches of lblc and lblcr (IPVS's ip_vs_lblc_table / ip_vs_lblcr_table):
// destination address -> the server (lblc) or the set of servers (lblcr) it was sent to.
//
// IPVS keeps one chained hash table per service, collects entries unused for 6 minutes once
// it holds more than 16384 (a timer every minute) and every entry unused for
// lblc(r)_expiration (24 hours by default) every 30 minutes. Here each worker keeps a
// fixed-size set-associative table (allocated by prepare_scheduler, never when scheduling)
// of the same 16384 entries: an entry unused for 24 hours is gone (checked when looked up,
// and one bucket per scheduling call is swept), and a new destination whose bucket is full
// takes the place of the bucket's least recently used entry.
//
// Entries name servers by stable real id, not index, so a cache survives a new version of
// the service (carry_scheduler_state); a server no longer in the service counts as gone.
//
// Threading: one cache per worker, read and written only by that worker.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "dataplane/sched/scheduler.hpp"

namespace dplb {

inline constexpr Tick locality_expiration_ms = 24u * 60 * 60 * 1000;  // IPVS DEFAULT_EXPIRATION
inline constexpr uint32_t locality_cache_entries = 16384;              // IPVS max_size
inline constexpr uint32_t lblcr_set_max = 8;                           // servers per lblcr set

struct LblcEntry {
    uint32_t addr = 0;  // destination address, network order
    Tick lastuse = 0;
    bool used = false;
    uint32_t real_id = 0;
};

struct LblcrEntry {
    uint32_t addr = 0;
    Tick lastuse = 0;
    bool used = false;
    uint8_t size = 0;
    Tick lastmod = 0;                  // when the set last gained or lost a server
    uint32_t ids[lblcr_set_max] = {};  // newest first (IPVS's list_add)
};

template <class Entry>
class LocalityCache {
public:
    static constexpr uint32_t ways = 8;

    // `entries`: a power of two, at least `ways`.
    explicit LocalityCache(uint32_t entries = locality_cache_entries)
        : shift_(32 - std::countr_zero(entries / ways)), slots_(entries) {}

    // The live entry of `addr`; null when there is none or it expired (then it is freed).
    Entry* find(uint32_t addr, Tick now) {
        Entry* b = bucket(addr);
        for (uint32_t w = 0; w < ways; ++w) {
            Entry& e = b[w];
            if (!e.used || e.addr != addr) continue;
            if (!expired(e, now)) return &e;
            e.used = false;
            return nullptr;
        }
        return nullptr;
    }

    // A fresh entry for `addr` used at `now`: its old slot, a free one, or the bucket's
    // least recently used.
    Entry& claim(uint32_t addr, Tick now) {
        Entry* b = bucket(addr);
        Entry* slot = &b[0];
        for (uint32_t w = 0; w < ways; ++w) {
            Entry& e = b[w];
            if (e.used && e.addr == addr) {
                slot = &e;
                break;
            }
            if (slot->used && (!e.used || Tick(now - e.lastuse) > Tick(now - slot->lastuse))) slot = &e;
        }
        *slot = Entry{};
        slot->addr = addr;
        slot->lastuse = now;
        slot->used = true;
        return *slot;
    }

    // Frees the expired entries of the next bucket (IPVS's periodic full check, spread over
    // scheduling calls, which also keeps an entry idle for 49 days from looking fresh when
    // the 32-bit clock wraps).
    void sweep(Tick now) {
        Entry* b = &slots_[size_t(rover_) * ways];
        rover_ = (rover_ + 1) % (uint32_t(slots_.size()) / ways);
        for (uint32_t w = 0; w < ways; ++w)
            if (b[w].used && expired(b[w], now)) b[w].used = false;
    }

    uint32_t live() const {
        uint32_t n = 0;
        for (const Entry& e : slots_) n += e.used;
        return n;
    }

private:
    static bool expired(const Entry& e, Tick now) { return Tick(now - e.lastuse) >= locality_expiration_ms; }
    Entry* bucket(uint32_t addr) {
        uint32_t h = __builtin_bswap32(addr) * 2654435761u;  // IPVS's multiplier, top bits
        return &slots_[size_t(uint64_t(h) >> shift_) * ways];
    }

    int shift_;
    uint32_t rover_ = 0;
    std::vector<Entry> slots_;
};

using LblcCache = LocalityCache<LblcEntry>;
using LblcrCache = LocalityCache<LblcrEntry>;

// Index in svc.reals of the server with stable id `id`, or -1.
int real_index(const ServiceSnap& svc, uint32_t id);

// lblc/lblcr's is_overloaded(): the server has more active connections than its weight
// while some server of the service has fewer than half of its own.
bool locality_overloaded(SchedContext& ctx, size_t i);

}  // namespace dplb
