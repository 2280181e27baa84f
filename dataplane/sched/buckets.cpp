#include "dataplane/sched/buckets.hpp"

namespace dplb {

void assign_buckets(ServiceSnap& svc, bool weighted) {
    std::vector<int32_t>& b = svc.sched.buckets;
    b.assign(hash_buckets, -1);
    const size_t n = svc.reals.size();
    if (n == 0) return;
    size_t p = 0;
    uint32_t count = 0;
    for (uint32_t i = 0; i < hash_buckets; ++i) {
        b[i] = int32_t(p);
        // "Don't move to next dest until filling weight" (sh); dh moves on every bucket.
        if (!weighted || ++count >= svc.reals[p].weight) {
            p = (p + 1) % n;
            count = 0;
        }
    }
}

}  // namespace dplb
