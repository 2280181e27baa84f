#include "dataplane/sched/mh_table.hpp"

#include <bit>
#include <numeric>

namespace dplb {

namespace {

inline void sipround(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
}

bool is_prime(uint32_t n) {
    if (n < 2) return false;
    for (uint32_t d = 2; uint64_t(d) * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}

}  // namespace

uint32_t hsiphash_u32(uint32_t v, HsipKey key) {
    uint64_t v0 = 0x736f6d6570736575ULL ^ key.k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ key.k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ key.k0;
    uint64_t v3 = 0x7465646279746573ULL ^ key.k1;
    const uint64_t b = uint64_t(4) << 56 | v;  // length 4, then the four bytes (little-endian)
    v3 ^= b;
    sipround(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    sipround(v0, v1, v2, v3);
    sipround(v0, v1, v2, v3);
    sipround(v0, v1, v2, v3);
    return uint32_t((v0 ^ v1) ^ (v2 ^ v3));
}

uint32_t mh_usable_size(uint32_t requested) {
    uint32_t n = requested < 3 ? 3 : requested;
    while (!is_prime(n)) ++n;
    return n;
}

std::vector<int32_t> mh_turns(const std::vector<uint32_t>& weights, uint32_t size) {
    int64_t g = 0, maxw = 0;
    for (uint32_t w : weights) {
        if (w > 0) g = g > 0 ? std::gcd(int64_t(w), g) : int64_t(w);  // ip_vs_mh_gcd_weight
        maxw = std::max(maxw, int64_t(w));
    }
    std::vector<int32_t> turns(weights.size(), 0);
    if (g < 1) return turns;
    // ip_vs_mh_shift_weight: IP_VS_MH_TAB_BITS is CONFIG_IP_VS_MH_TAB_INDEX / 2, and IPVS's
    // primes[index - 8] is the prime just below 2^index, so index = bit_width(size - 1).
    const int tab_bits = std::bit_width(size - 1) / 2;
    const int shift = std::bit_width(uint64_t(maxw / g)) - tab_bits;
    const int rshift = shift > 0 ? shift : 0;
    for (size_t i = 0; i < weights.size(); ++i) {
        int64_t t = (int64_t(weights[i]) / g) >> rshift;
        turns[i] = int32_t(t ? t : weights[i] != 0);
    }
    return turns;
}

std::vector<uint16_t> build_mh_table(const std::vector<RealSnap>& reals, const std::vector<uint32_t>& weights,
                                     uint32_t size) {
    std::vector<uint16_t> lookup(size, mh_none);
    std::vector<int32_t> turns = mh_turns(weights, size);
    if (turns.size() > mh_none) turns.resize(mh_none);  // index mh_none means "no server"
    bool any = false;
    for (int32_t t : turns) any |= t > 0;
    if (!any || size < 2) return lookup;

    struct Setup {
        uint32_t skip, perm;
    };
    std::vector<Setup> ds(turns.size());
    for (size_t i = 0; i < ds.size(); ++i) {
        const uint16_t port = __builtin_bswap16(reals[i].port);
        ds[i].perm = mh_hashkey(reals[i].addr, port, 0, mh_key1) % size;  // offset
        ds[i].skip = mh_hashkey(reals[i].addr, port, 0, mh_key2) % (size - 1) + 1;
    }

    // IPVS walks svc->destinations, where each new server was put at the head
    // (__ip_vs_update_dest: list_add_rcu): newest first. The reals are in configuration
    // order, the order keepalived or `ipvsadm -a` adds them, so walking them backwards builds
    // the kernel's table for the same servers (docs/architecture.md, "mh and the kernel").
    std::vector<bool> taken(size, false);
    uint32_t n = 0;
    int32_t dt_count = 0;
    for (;;) {
        for (size_t k = 0; k < ds.size();) {
            const size_t i = ds.size() - 1 - k;
            if (turns[i] < 1) {  // zero weight: holds no position
                ++k;
                continue;
            }
            uint32_t c = ds[i].perm;
            while (taken[c]) {
                ds[i].perm += ds[i].skip;
                if (ds[i].perm >= size) ds[i].perm -= size;
                c = ds[i].perm;
            }
            taken[c] = true;
            lookup[c] = uint16_t(i);
            if (++n == size) return lookup;
            if (++dt_count >= turns[i]) {
                dt_count = 0;
                ++k;
            }
        }
    }
}

}  // namespace dplb
