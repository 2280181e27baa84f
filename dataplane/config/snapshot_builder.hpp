// Turns a validated service configuration into a Snapshot.
//
// Keeps what must outlive one snapshot: stable ids for services and real servers (workers
// index counters and scheduler state by them), and the last built ServiceSnap of each
// service so unchanged services are shared, not rebuilt. Ids of removed objects are
// quarantined until the caller reports them idle (no session refers to them), then reused.
//
// Threading: control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.hpp"
#include "dataplane/config/snapshot.hpp"
#include "dataplane/snat/local_address_registry.hpp"
#include "dplb/config.hpp"

namespace dplb {

struct SnapshotLimits {
    uint32_t max_services = 1u << 14;
    uint32_t max_reals = 1u << 17;
    uint32_t max_port_group_ports = 1u << 22;  // (protocol, address, port) entries marks expand to
};

// Where packets to a TUN real server leave: the outer source address and the MTU of the
// port. `found` false when no route leads there.
struct TunnelRoute {
    bool found = false;
    uint32_t source = 0;  // network order
    uint16_t mtu = 1500;
};
using TunnelRouteFn = std::function<TunnelRoute(uint32_t real_addr_be)>;

class SnapshotBuilder {
public:
    // `tunnel_route` defaults to the port whose connected network holds the address.
    SnapshotBuilder(unsigned nworkers, std::vector<PortSnap> ports, SnapshotLimits limits,
                    LocalAddressRegistry& laddrs, TunnelRouteFn tunnel_route = {});

    // Builds the snapshot for `cfg` (already validated by the model). Fails, changing
    // nothing, when a dataplane limit is exceeded.
    model::Result<std::unique_ptr<Snapshot>> build(const config::Config& cfg, uint64_t generation);

    // After the grace period of the snapshot that preceded the last built one: recycles
    // quarantined ids the predicates report idle and frees unused local addresses.
    void collect(const std::function<bool(uint32_t real_id)>& real_busy,
                 const std::function<bool(uint32_t service_id)>& service_busy);

    // Ids handed out by the last build() that were used before (their counters carry old
    // values the stats code must treat as a baseline).
    const std::vector<uint32_t>& recycled_real_ids() const { return recycled_reals_; }
    const std::vector<uint32_t>& recycled_service_ids() const { return recycled_services_; }

private:
    struct RealKey {
        uint64_t service;  // service_lookup_key
        uint64_t real;     // rip << 16 | rport
        bool operator==(const RealKey&) const = default;
    };
    struct RealKeyHash {
        size_t operator()(const RealKey& k) const { return std::hash<uint64_t>()(k.service * 31 ^ k.real); }
    };
    struct ServiceEntry {
        uint32_t id;
        config::Service config;
        config::Timeouts global;  // the global timeouts the snap was built with
        std::shared_ptr<const ServiceSnap> snap;
    };
    class IdPool {
    public:
        explicit IdPool(uint32_t n);
        bool take(uint32_t& id, bool& recycled);
        void retire(uint32_t id) { quarantine_.push_back(id); }
        // Moves idle quarantined ids to the free list; returns them.
        std::vector<uint32_t> collect(const std::function<bool(uint32_t)>& busy);
        uint32_t available() const { return uint32_t(free_.size()); }

    private:
        std::vector<uint32_t> free_;
        std::vector<uint32_t> quarantine_;
        std::vector<bool> used_before_;
    };

    model::Status check(const config::Config& cfg) const;
    std::shared_ptr<ServiceSnap> build_service(const config::Service& svc, const config::Timeouts& global,
                                               uint32_t id,
                                               const std::unordered_map<RealKey, uint32_t, RealKeyHash>& real_ids);
    std::unique_ptr<Snapshot> assemble(const config::Config& cfg, uint64_t generation);
    TunnelRoute connected_route(uint32_t addr) const;

    unsigned nworkers_;
    std::vector<PortSnap> ports_;
    TunnelRouteFn tunnel_route_;
    SnapshotLimits limits_;
    LocalAddressRegistry& laddrs_;
    IdPool service_ids_;
    IdPool real_id_pool_;
    std::unordered_map<uint64_t, ServiceEntry> services_;  // by service_lookup_key
    std::unordered_map<RealKey, uint32_t, RealKeyHash> real_ids_;
    std::unordered_set<uint32_t> referenced_laddrs_;
    std::vector<uint32_t> recycled_reals_, recycled_services_;
    uint64_t next_version_ = 1;
    uint64_t sequence_ = 0;

    // Owner information of removed objects whose connections still drain (architecture.md,
    // "Ownership"): kept in every snapshot until collect() recycles their ids.
    struct OwnerKeys {
        std::vector<uint64_t> keys;  // lookup keys (services) or (proto, rip, rport) keys (NAT reals)
        NatRealOwner owner;
    };
    std::unordered_map<uint32_t, OwnerKeys> service_keys_, draining_services_;  // by service id
    std::unordered_map<uint32_t, OwnerKeys> nat_keys_, draining_reals_;         // by real id
};

}  // namespace dplb
