// Which worker owns a packet, computed from the packet and the snapshot alone.
//
// A worker that receives a packet it does not own hands it to the owner (a per-pair SPSC
// ring) instead of looking anything up in another worker's tables. The rules, for every
// packet class (docs/architecture.md, "Ownership"):
//   client -> VIP:vport                 client_owner(client address, client port)
//   client -> VIP of a persistent svc   client_owner(client address & netmask, 0): every
//                                       connection sharing a template shares a worker
//   real server -> LIP:lport            local_port_owner(lport)   (FULLNAT replies)
//   NAT real server -> client           as the client's own packets (by the destination)
//   ICMP error quoting a TCP/UDP packet as the packet that would match the quoted one's
//                                       session: the quoted packet reversed
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
// The most workers a dataplane runs (dataplane_config.cpp refuses more); sizes per-worker
// bit sets such as SyncReceiver::Result::workers_fed.
inline constexpr unsigned max_workers = 128;

inline unsigned client_owner(uint32_t client_addr_be, uint16_t client_port_be, unsigned nworkers) {
    uint64_t w = uint64_t(client_addr_be) << 16 | client_port_be;
#if defined(__SSE4_2__)
    uint32_t h = uint32_t(__builtin_ia32_crc32di(0x2545f491u, w));
#else
    uint32_t h = uint32_t((w * 0x9e3779b97f4a7c15ull) >> 32);
#endif
    return unsigned((uint64_t(h) * nworkers) >> 32);
}

// Owner of a connection from saddr:sport to service `svc`.
inline unsigned service_owner(const ServiceSnap& svc, uint32_t saddr, uint16_t sport, unsigned nworkers) {
    return svc.persistent ? client_owner(saddr & svc.persist_mask, 0, nworkers) : client_owner(saddr, sport, nworkers);
}

// Owner of a TCP/UDP packet with this tuple (network order). `*service` receives
// snap.find_service(proto, daddr, dport): looked up when daddr is a VIP, nullptr otherwise
// (every address a service is filed under is a local_vip address).
inline unsigned owner_of_tuple(uint8_t proto, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                               const Snapshot& snap, const ServiceSnap** service = nullptr) {
    const unsigned n = snap.nworkers;
    if (service) *service = nullptr;
    if (const LocalAddressInfo* la = snap.find_local(daddr)) {
        if (la->kinds & local_vip) {
            if (const ServiceSnap* svc = snap.find_service(proto, daddr, dport)) {
                if (service) *service = svc;
                return service_owner(*svc, saddr, sport, n);
            }
            // A removed service's connections drain on the worker that owns them.
            const NatRealOwner* d = snap.draining_services.find(service_lookup_key(proto, daddr, dport));
            if (!d) d = snap.draining_services.find(service_lookup_key(proto, daddr, 0));
            if (d) return d->persistent ? client_owner(saddr & d->client_mask, 0, n) : client_owner(saddr, sport, n);
        }
        if (la->kinds & local_snat) return local_port_owner(__builtin_bswap16(dport), n);
        return any_worker;
    }
    // A real server of a port-0 or mark service is filed under port 0: it answers from
    // whatever port the client asked for.
    const NatRealOwner* nat = snap.nat_reals.find(service_lookup_key(proto, saddr, sport));
    if (!nat) nat = snap.nat_reals.find(service_lookup_key(proto, saddr, 0));
    if (nat) return nat->persistent ? client_owner(daddr & nat->client_mask, 0, n) : client_owner(daddr, dport, n);
    return any_worker;
}

// Also stores the packet's service lookup in p.service / p.service_seq for the forwarder
// (TCP/UDP packets, several workers).
inline unsigned owner_of(pkt::ParsedIpv4& p, const Snapshot& snap) {
    if (snap.nworkers == 1) return any_worker;
    if (p.has_ports()) {
        unsigned o = owner_of_tuple(p.proto, p.saddr, p.daddr, p.sport, p.dport, snap, &p.service);
        p.service_seq = snap.sequence;
        return o;
    }
    if (p.icmp_error)
        return owner_of_tuple(p.inner_proto, p.inner_daddr, p.inner_saddr, p.inner_dport, p.inner_sport, snap);
    return any_worker;
}

}  // namespace dplb
