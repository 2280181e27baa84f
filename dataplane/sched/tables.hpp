// What a scheduler precomputes for a service (when the snapshot is built, off the fast
// path) and the per-worker scratch memory some schedulers keep (lblc/lblcr destination
// caches). Both hang off ServiceSnap.
//
// Threading: SchedTables is immutable once the snapshot is published. SchedScratch for
// worker w is allocated by the control thread and then read and written only by worker w;
// the control thread may copy its pointers (carry_scheduler_state) but never touches the
// caches they point to.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace dplb {

inline constexpr uint16_t mh_none = 0xffff;  // an mh_lookup slot no server holds

struct SchedTables {
    int32_t wrr_mw = 0;               // wrr: max weight - (gcd - 1)  (IPVS mark->mw)
    int32_t wrr_di = 1;               // wrr: gcd of positive weights (IPVS mark->di)
    std::vector<int32_t> buckets;     // sh/dh: IPVS's 256 buckets -> real index (-1 = none)
    std::vector<uint16_t> mh_lookup;  // mh: Maglev table of mh_table_size entries -> real index
    std::vector<uint64_t> real_by_id;  // lblc/lblcr: real id << 32 | index in reals, sorted
};

template <class Entry>
class LocalityCache;
struct LblcEntry;
struct LblcrEntry;

// Per-worker memory of lblc/lblcr (IPVS keeps one table per service; each worker keeps its
// own, for the destinations its clients ask for). Shared, not copied, by the next version
// of the service when carry_scheduler_state() is called.
struct SchedScratch {
    std::shared_ptr<LocalityCache<LblcEntry>> lblc;
    std::shared_ptr<LocalityCache<LblcrEntry>> lblcr;
};

}  // namespace dplb
