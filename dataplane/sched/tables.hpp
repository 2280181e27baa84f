// What a scheduler precomputes for a service (when the snapshot is built, off the fast
// path) and the per-worker scratch memory some schedulers keep (lblc/lblcr destination
// caches). Both hang off ServiceSnap.
//
// Threading: SchedTables is immutable once the snapshot is published. SchedScratch for
// worker w is allocated by the control thread and then read and written only by worker w.
#pragma once

#include <cstdint>
#include <vector>

namespace dplb {

struct SchedTables {
    int32_t wrr_mw = 0;               // wrr: max weight - (gcd - 1)  (IPVS mark->mw)
    int32_t wrr_di = 1;               // wrr: gcd of positive weights (IPVS mark->di)
    std::vector<int32_t> buckets;     // sh/dh: IPVS's 256 buckets -> real index (-1 = none)
    std::vector<uint16_t> mh_lookup;  // mh: Maglev table of mh_table_size entries -> real index
};

// Per-worker memory of lblc/lblcr (IPVS keeps one table per service; each worker keeps its
// own, for the destinations its clients ask for).
struct SchedScratch {
    std::vector<uint8_t> bytes;  // the scheduler's own layout
};

}  // namespace dplb
