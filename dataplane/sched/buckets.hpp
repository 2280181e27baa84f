// The 256-bucket tables of IPVS's sh and dh schedulers (IP_VS_SH_TAB_SIZE,
// IP_VS_DH_TAB_SIZE with the default CONFIG_IP_VS_*_TAB_BITS of 8).
#pragma once

#include <cstdint>

#include "dataplane/config/snapshot.hpp"

namespace dplb {

inline constexpr uint32_t hash_buckets = 256;

// ip_vs_sh_hashkey / ip_vs_dh_hashkey for IPv4: (offset + (port + addr) * 2654435761) mod 256,
// port and address in host order (dh passes port 0 and offset 0).
inline uint32_t bucket_of(uint32_t addr_be, uint16_t port_host, uint32_t offset) {
    uint32_t key = uint32_t(port_host) + __builtin_bswap32(addr_be);
    return uint32_t((offset + uint64_t(key) * 2654435761u) & (hash_buckets - 1));
}

// ip_vs_sh_reassign (weighted) and ip_vs_dh_reassign: the buckets go round the server list;
// with `weighted`, each server takes `weight` buckets in a row (at least one: weight 0 takes
// one too, and is then refused when scheduling). No server: every bucket is -1.
void assign_buckets(ServiceSnap& svc, bool weighted);

}  // namespace dplb
