// Per-packet metadata carried in an mbuf dynamic field when a worker hands a packet to the
// main lcore for neighbour resolution.
#pragma once

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

namespace dplb::runtime {

struct PendingMeta {
    uint32_t nexthop;  // network order: the address to resolve; 0 = an ARP message to learn from
    uint16_t port;     // dataplane port index (received on, or to send on)
    uint8_t create;    // ARP: may create an entry (a request for one of our addresses)
};

// Offset of the dynamic field, registered once before workers start. Threading: written
// once by the main thread before any worker runs; read-only afterwards.
class PacketMeta {
public:
    bool register_field() {
        static const rte_mbuf_dynfield desc = {"dplb_pending_meta", sizeof(PendingMeta), alignof(PendingMeta), 0};
        offset_ = rte_mbuf_dynfield_register(&desc);
        return offset_ >= 0;
    }
    PendingMeta& of(rte_mbuf* m) const { return *RTE_MBUF_DYNFIELD(m, offset_, PendingMeta*); }

private:
    int offset_ = -1;
};

}  // namespace dplb::runtime
