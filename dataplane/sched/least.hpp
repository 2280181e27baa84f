// The loops IPVS's connection-count schedulers share: "least loaded" (lc, wlc, sed, nq, and
// lblc/lblcr when they pick a new server) and "highest weight" (fo, ovf).
#pragma once

#include <cstdint>
#include <ranges>

#include "dataplane/sched/scheduler.hpp"

namespace dplb {

enum class Overhead : uint8_t {
    conns,        // ip_vs_dest_conn_overhead(): active * 256 + inactive (lc, wlc, lblc, lblcr)
    active_next,  // ip_vs_sed/nq_dest_overhead(): active + 1 (sed, nq)
};

inline uint64_t overhead(Overhead kind, const ConnCounts& c) {
    return kind == Overhead::conns ? (c.active << 8) + c.inactive : c.active + 1;
}

// IPVS's `loh * dw > doh * lw`: the candidate (doh, dw) carries less load per weight than the
// least so far (loh, lw). Strict, so a tie keeps the earlier server. 128-bit products: IPVS
// multiplies 32-bit values in 64 bits; the counts here are 64-bit.
inline bool lighter(uint64_t doh, uint64_t dw, uint64_t loh, uint64_t lw) {
    __extension__ typedef unsigned __int128 u128;
    return u128(loh) * dw > u128(doh) * lw;
}

struct LeastBy {
    Overhead overhead = Overhead::conns;
    bool weighted = true;     // false: compare overheads alone (lc)
    bool idle_first = false;  // nq: an available server without active connections wins at once
};

// The first available candidate, then every later available one that is lighter(). Weight 0
// and overloaded servers are skipped (IPVS skips overloaded ones and cannot pick weight 0:
// `loh * 0 > doh * lw` never holds). `candidates` are indices into svc.reals in IPVS's
// list order. -1 when none is available.
template <class Candidates>
int least_loaded(SchedContext& ctx, const Candidates& candidates, LeastBy by) {
    int least = -1;
    uint64_t loh = 0, lw = 1;
    for (auto i : candidates) {
        if (!ctx.available(size_t(i))) continue;
        ConnCounts c = ctx.counts(size_t(i));
        if (by.idle_first && c.active == 0) return int(i);
        uint64_t doh = overhead(by.overhead, c);
        uint64_t dw = by.weighted ? ctx.real(size_t(i)).weight : 1;
        if (least < 0 || lighter(doh, dw, loh, lw)) {
            least = int(i);
            loh = doh;
            lw = dw;
        }
    }
    return least;
}

inline int least_loaded(SchedContext& ctx, LeastBy by) {
    return least_loaded(ctx, std::views::iota(size_t(0), ctx.size()), by);
}

// The first server of the highest weight among the available ones `eligible` accepts.
template <class Eligible>
int highest_weight(SchedContext& ctx, Eligible eligible) {
    int best = -1;
    uint32_t bw = 0;
    for (size_t i = 0; i < ctx.size(); ++i) {
        if (!ctx.available(i) || !eligible(i)) continue;
        uint32_t w = ctx.real(i).weight;
        if (best < 0 || w > bw) {
            best = int(i);
            bw = w;
        }
    }
    return best;
}

}  // namespace dplb
