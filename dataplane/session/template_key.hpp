// The flow key of a persistence template (session.hpp): protocol 0, so no packet matches
// it; keyed by the masked client address and the VIP:port, or by the mark (tagged by
// source port 1). Shared by the forwarder, which creates templates, and the sync installer,
// which rebuilds them from a peer's records.
#pragma once

#include <cstdint>

#include "dataplane/session/flow_key.hpp"

namespace dplb {

// masked_client, vip, vport_be in network order; fwmark in host order (0: no mark).
inline FlowKey template_flow_key(uint32_t masked_client, uint32_t vip, uint16_t vport_be, uint32_t fwmark) {
    if (fwmark) return FlowKey(masked_client, fwmark, __builtin_bswap16(1), 0, 0);
    return FlowKey(masked_client, vip, 0, vport_be, 0);
}

}  // namespace dplb
