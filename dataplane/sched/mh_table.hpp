// The Maglev lookup table of IPVS's mh scheduler (ip_vs_mh.c), built off the fast path.
//
// IPVS hashes with hsiphash keyed by two constants (generate_hash_secret: 2654435761 and
// 2654446892 in both key words), not random keys, so tables and lookups here are the ones a
// 64-bit x86 kernel computes for the same servers, weights and table size.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/config/snapshot.hpp"

namespace dplb {

struct HsipKey {
    uint64_t k0, k1;
};
inline constexpr HsipKey mh_key1{2654435761u, 2654435761u};  // offsets and lookups
inline constexpr HsipKey mh_key2{2654446892u, 2654446892u};  // skips

// The kernel's hsiphash(&v, 4, key) on a 64-bit little-endian machine: SipHash-1-3 of the
// four bytes of v, truncated to 32 bits (lib/siphash.c, BITS_PER_LONG == 64).
uint32_t hsiphash_u32(uint32_t v, HsipKey key);

// ip_vs_mh_hashkey for IPv4: hsiphash of offset + port + address (host order, 32-bit sum).
inline uint32_t mh_hashkey(uint32_t addr_be, uint16_t port_host, uint32_t offset, HsipKey key) {
    return hsiphash_u32(offset + port_host + __builtin_bswap32(addr_be), key);
}

// The table size actually used for a requested one: itself when it is a prime >= 3 (what
// validation admits), else the next prime above it, so population always terminates.
uint32_t mh_usable_size(uint32_t requested);

// IPVS's weight scaling: turns = (weight / gcd) >> rshift, at least 1 for a non-zero weight,
// where rshift keeps the largest scaled weight within IP_VS_MH_TAB_BITS bits (half the bits
// of the table size: 6 for IPVS's default 4093, 8 for 65537).
std::vector<int32_t> mh_turns(const std::vector<uint32_t>& weights, uint32_t size);

// ip_vs_mh_permutate + ip_vs_mh_populate: each server (from the last of `reals` to the first,
// as IPVS walks its newest-first list; `turns` positions per round) claims the next free position of its permutation (offset, skip from its address
// and port) until the table is full. Servers with turns 0 hold no position; with none left
// the table is all mh_none. Indices past 65534 cannot be stored and hold no position.
std::vector<uint16_t> build_mh_table(const std::vector<RealSnap>& reals, const std::vector<uint32_t>& weights,
                                     uint32_t size);

}  // namespace dplb
