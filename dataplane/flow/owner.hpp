// Which worker owns a packet, computed from the packet and the snapshot alone.
//
// A worker that receives a packet it does not own hands it to the owner (a per-pair SPSC
// ring) instead of looking anything up in another worker's tables. The rules, for every
// packet class (docs/architecture.md, "Ownership"):
//   client -> VIP:vport           owner = client_owner(client address, client port)
//   real server -> LIP:lport      owner = local_port_owner(lport)   (FULLNAT replies)
//   NAT real server -> client     owner = client_owner(client address, client port)
//   anything else (ARP, ICMP to us, strays)  any worker: handled where it lands
// client_owner() depends only on the client's side of the tuple, so a NAT reply (which
// carries the real server's address, not the VIP) finds the same worker as its request.
#pragma once

#include <cstdint>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/packet/parse.hpp"
#include "dataplane/snat/port_owner.hpp"

namespace dplb {

inline constexpr unsigned any_worker = ~0u;

inline unsigned client_owner(uint32_t client_addr_be, uint16_t client_port_be, unsigned nworkers) {
    uint64_t w = uint64_t(client_addr_be) << 16 | client_port_be;
#if defined(__SSE4_2__)
    uint32_t h = uint32_t(__builtin_ia32_crc32di(0x2545f491u, w));
#else
    uint32_t h = uint32_t((w * 0x9e3779b97f4a7c15ull) >> 32);
#endif
    return unsigned((uint64_t(h) * nworkers) >> 32);
}

inline unsigned owner_of(const pkt::ParsedIpv4& p, const Snapshot& snap) {
    const unsigned n = snap.nworkers;
    if (n == 1 || !p.has_ports()) return any_worker;
    if (const LocalAddressInfo* la = snap.find_local(p.daddr)) {
        if ((la->kinds & local_vip) && snap.find_service(p.proto, p.daddr, p.dport))
            return client_owner(p.saddr, p.sport, n);
        if (la->kinds & local_snat) return local_port_owner(__builtin_bswap16(p.dport), n);
        return any_worker;
    }
    if (snap.nat_reals.find(service_lookup_key(p.proto, p.saddr, p.sport)))
        return client_owner(p.daddr, p.dport, n);
    return any_worker;
}

}  // namespace dplb
