// Resolved neighbours (port, IPv4 -> MAC) as workers see them: an immutable map the main
// lcore rebuilds and publishes when an entry changes, freed after a QSBR grace period.
// ARP changes are rare (a few per second at most), so copying a few thousand entries per
// change is cheaper than any concurrent structure on the read side.
#pragma once

#include <cstdint>

#include "dataplane/config/flat_map.hpp"
#include "dataplane/packet/headers.hpp"

namespace dplb::l3 {

inline uint64_t neighbor_key(uint16_t port, uint32_t addr_be) { return uint64_t(port) << 32 | addr_be; }

struct NeighborSnapshot {
    FlatMap<pkt::Mac> entries;

    const pkt::Mac* find(uint16_t port, uint32_t addr_be) const { return entries.find(neighbor_key(port, addr_be)); }
};

}  // namespace dplb::l3
