// The immutable forwarding configuration workers read.
//
// Built by the control thread from the service configuration plus the dataplane's static
// port setup, published with one pointer store (release), and freed only after an
// rte_rcu_qsbr grace period in which every worker reported quiescence. Services that did not
// change between two configurations are the same ServiceSnap object in both snapshots, so a
// one-line change rebuilds one service, not ten thousand; lookup maps that did not change are
// shared (FlatMap copies share their slots). ServiceSnaps are owned by the SnapshotBuilder,
// which frees a replaced one only at the collect() after the grace period.
//
// Threading: written by the control thread before publication, then read-only for everyone.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/config/flat_map.hpp"
#include "dataplane/packet/headers.hpp"
#include "dataplane/sched/tables.hpp"
#include "dataplane/session/session.hpp"
#include "dataplane/session/time.hpp"
#include "dplb/config.hpp"
#include "dplb/ip4.hpp"

namespace dplb {

struct RealSnap {
    uint32_t addr = 0;  // network order
    uint16_t port = 0;  // network order; 0 = the packet's destination port
    ForwardMode mode = ForwardMode::nat;
    uint32_t weight = 1;
    uint32_t id = 0;  // stable real-server id: counters, connection counts
    uint32_t upper_threshold = 0;  // ipvsadm -x; 0 = none
    uint32_t lower_threshold = 0;  // ipvsadm -y; 0 = none
    uint32_t tunnel_source = 0;    // TUN: outer source address (network order)
    uint16_t tunnel_mtu = 1500;    // TUN: MTU of the port toward the real server
};

struct ServiceSnap {
    uint32_t id = 0;        // stable service id: counters, per-worker scheduler state
    uint64_t version = 0;   // new value whenever anything below changes
    uint8_t proto = 0;
    uint32_t vip = 0;       // network order
    uint16_t vport = 0;     // network order; 0 = every port
    uint32_t fwmark = 0;    // a mark service (proto/vip/vport unused)
    bool persistent = false;
    uint32_t persist_mask = 0;   // network order: the client address bits a template keeps
    Tick persist_timeout_ms = 0;
    // Session timeouts are not here but in Snapshot::service_timeouts: a change of the global
    // timeouts must not rebuild the service (nor its scheduler tables).
    config::Scheduler scheduler = config::Scheduler::rr;
    uint32_t sched_flags = 0;       // config::SchedFlag bits
    uint32_t mh_table_size = 65537;
    // The scheduling set (model/scheduling_set.hpp): exactly the servers that may get new
    // connections or sit at weight 0 in the table (quiesced, inhibited, an inhibit sorry
    // server). A session whose real_id is not here has lost its server (removed by the health
    // checker, deleted, or replaced by the active sorry server).
    std::vector<RealSnap> reals;
    // The other servers of the configuration, never scheduled: real servers the health
    // checker removed, real servers an active sorry server replaces, a sorry server that is
    // neither active nor inhibit. They keep their ids, so that their remaining connections
    // keep counting and a server that comes back is the same one (counters, rates, -Z).
    std::vector<RealSnap> standby;
    // expire_nodest_conn (config::Service): sessions whose real server is not in `reals` are
    // reset and expired at their next packet. `real_index` (real id -> index in `reals`) is
    // built for such services, so that the check costs one probe per packet, and for
    // services with more than real_scan_limit servers; it is empty otherwise.
    bool expire_nodest_conn = false;
    bool real_indexed = false;  // real_index is built (expire_nodest_conn, or many reals)
    FlatMap<uint32_t> real_index;
    std::vector<uint16_t> laddr_ids;  // FULLNAT source addresses (LocalAddressRegistry ids)
    SchedTables sched;                // built by prepare_scheduler()
    std::vector<std::unique_ptr<SchedScratch>> sched_scratch;  // by worker (may be empty)
};

// What a session's real server is to its service now (Forwarder): still one of its servers,
// one at weight 0 (quiesced or inhibited: available, IPVS's "weight 0"), or gone (removed
// from the service, or the service removed).
enum class RealPresence : uint8_t { available, zero_weight, gone };

// Index of real server `real_id` in svc.reals, -1 if it is not there: one probe of
// real_index where the service has one, else a scan.
// Up to this many real servers a service is scanned rather than indexed.
inline constexpr size_t real_scan_limit = 8;

inline int index_of_real(const ServiceSnap& svc, uint32_t real_id) {
    if (svc.real_indexed) {
        const uint32_t* i = svc.real_index.find(real_id);
        return i ? int(*i) : -1;
    }
    for (size_t i = 0; i < svc.reals.size(); ++i)
        if (svc.reals[i].id == real_id) return int(i);
    return -1;
}

// Bits of Snapshot::service_flags.
enum ServiceFlagBits : uint8_t {
    service_flag_expire_nodest = 1,  // config::Service::expire_nodest_conn
};

inline uint64_t service_lookup_key(uint8_t proto, uint32_t addr_be, uint16_t port_be) {
    return uint64_t(proto) << 48 | uint64_t(port_be) << 32 | addr_be;
}

enum LocalAddressKind : uint8_t {
    local_interface = 1,  // an address of a port
    local_vip = 2,        // a virtual service address
    local_snat = 4,       // a FULLNAT local address
};

struct LocalAddressInfo {
    uint8_t kinds = 0;
    uint32_t arp_ports = 0;  // bit p: answer ARP for it on port p
};

// How replies from a NAT real server find their worker: by the client they go to, masked
// like the persistent service the server belongs to (flow/owner.hpp).
struct NatRealOwner {
    bool persistent = false;
    uint32_t client_mask = 0xffffffffu;  // network order
};

// The timeouts a service may override (config::TimeoutOverrides), merged with the global ones.
struct ServiceTimeouts {
    Tick tcp = 0, tcp_fin = 0, udp = 0;  // ms
    bool operator==(const ServiceTimeouts&) const = default;
};
// Column of ServiceTimeouts for a session state: 0 tcp, 1 tcp_fin, 2 udp, 3 none (global only).
inline constexpr uint8_t timeout_column(SessionState s) {
    return s == SessionState::tcp_established ? 0 : s == SessionState::tcp_fin_wait ? 1 : s == SessionState::udp ? 2 : 3;
}

struct PortSnap {
    pkt::Mac mac;
    uint16_t mtu = 1500;
    std::vector<Ip4Prefix> addresses;
    // The port has a kernel twin (docs/architecture.md, "Exception path"): its interface
    // addresses are the kernel's (ARP and traffic to them go up), not the dataplane's.
    bool twin = false;
};

struct Snapshot {
    uint64_t generation = 0;
    unsigned nworkers = 1;
    std::vector<PortSnap> ports;  // by dataplane port index
    FlatMap<LocalAddressInfo> local_addresses;      // key: address (network order)
    FlatMap<const ServiceSnap*> services;           // key: service_lookup_key()
    FlatMap<NatRealOwner> nat_reals;  // key: service_lookup_key(proto, rip, rport) of NAT reals
    // Services removed while connections remain: how to find the owner of those connections'
    // packets (key: service_lookup_key of each address:port the service covered).
    FlatMap<NatRealOwner> draining_services;
    uint64_t sequence = 0;  // increases with every snapshot this dataplane builds
    Tick timeout_ms[session_state_count] = {};
    std::vector<const ServiceSnap*> service_by_id;  // by stable service id (nullptr: none)
    // By stable service id; ids of no service hold the global values.
    std::vector<ServiceTimeouts> service_timeouts;
    // By stable service id: ServiceFlagBits, what the session path must know of a session's
    // service before it forwards (one byte per id, so the check for a flag nobody set costs a
    // load from a small, hot array). A removed service keeps its bits until its id is reused:
    // its sessions still follow its last setting.
    std::vector<uint8_t> service_flags;
    std::vector<const ServiceSnap*> service_list;  // every service once (stats order)

    // The service a packet to addr:port belongs to: an exact service or a port group's mark
    // service (both filed under the port), else a port-0 service of the address.
    const ServiceSnap* find_service(uint8_t proto, uint32_t addr, uint16_t port) const {
        if (auto* p = services.find(service_lookup_key(proto, addr, port))) return *p;
        auto* any = services.find(service_lookup_key(proto, addr, 0));
        return any ? *any : nullptr;
    }
    // Timeout of `state` for a session of service `id` (the global one if the service is gone).
    Tick timeout(uint32_t service_id, SessionState state) const {
        const uint8_t col = timeout_column(state);
        if (col == 3 || service_id >= service_timeouts.size()) return timeout_ms[unsigned(state)];
        const ServiceTimeouts& t = service_timeouts[service_id];
        return col == 0 ? t.tcp : col == 1 ? t.tcp_fin : t.udp;
    }
    const LocalAddressInfo* find_local(uint32_t addr) const { return local_addresses.find(addr); }
    uint8_t flags_of(uint32_t service_id) const {
        return service_id < service_flags.size() ? service_flags[service_id] : 0;
    }
    // Where real server `real_id` stands in service `service_id` now.
    RealPresence presence(uint32_t service_id, uint32_t real_id) const {
        const ServiceSnap* svc = service_id < service_by_id.size() ? service_by_id[service_id] : nullptr;
        if (!svc) return RealPresence::gone;
        int i = index_of_real(*svc, real_id);
        if (i < 0) return RealPresence::gone;
        return svc->reals[size_t(i)].weight == 0 ? RealPresence::zero_weight : RealPresence::available;
    }
};

}  // namespace dplb
