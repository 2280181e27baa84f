// Turns a validated service configuration into a Snapshot.
//
// Keeps what must outlive one snapshot: stable ids for services and real servers (workers
// index counters and scheduler state by them; every configured server has one, in the
// scheduling set or on standby, keyed by service, address and port, the sorry server
// included), the last built ServiceSnap of each service so
// unchanged services are shared, not rebuilt, and each service's lookup entries so that a
// snapshot is assembled without walking the configuration. Ids of removed objects are
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
#include "model/change.hpp"

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

// The service configuration of `key` in the configuration being built, or nullptr if it has
// none (ConfigEditor::find_service; O(1) for incremental builds to stay cheap).
using FindServiceFn = std::function<const config::Service*(const config::ServiceKey&)>;

class SnapshotBuilder {
public:
    // `tunnel_route` defaults to the port whose connected network holds the address.
    SnapshotBuilder(unsigned nworkers, std::vector<PortSnap> ports, SnapshotLimits limits,
                    LocalAddressRegistry& laddrs, TunnelRouteFn tunnel_route = {});
    ~SnapshotBuilder();

    // Builds the snapshot for `cfg` (already validated by the model), comparing every service
    // with the last build's. Fails, changing nothing, when a dataplane limit is exceeded.
    model::Result<std::unique_ptr<Snapshot>> build(const config::Config& cfg, uint64_t generation);

    // The same for a configuration that differs from the last built one only where `touched`
    // says (model::touched_by of the batch that led from one to the other): only the touched
    // services are compared and rebuilt, every other ServiceSnap and every lookup map the
    // change leaves alone is reused. `find` looks a service up in `cfg`. Timeouts alone rebuild
    // no service. `touched.everything` is the full build above.
    model::Result<std::unique_ptr<Snapshot>> build(const config::Config& cfg, const model::Touched& touched,
                                                   uint64_t generation, const FindServiceFn& find);

    // After the grace period of the snapshot that preceded the last built one: recycles
    // quarantined ids the predicates report idle, frees unused local addresses and the
    // ServiceSnaps earlier builds replaced.
    void collect(const std::function<bool(uint32_t real_id)>& real_busy,
                 const std::function<bool(uint32_t service_id)>& service_busy);

    // Ids handed out by the last build() that were used before (their counters carry old
    // values the stats code must treat as a baseline).
    const std::vector<uint32_t>& recycled_real_ids() const { return recycled_reals_; }
    const std::vector<uint32_t>& recycled_service_ids() const { return recycled_services_; }
    // Real servers the last build() took out of the snapshot (removed from their service, or
    // their service removed): their ids stay quarantined while sessions use them, and this is
    // the last time the builder can name them.
    struct RetiredReal {
        uint32_t id = 0;
        config::ServiceKey service;
        uint32_t addr = 0;  // network order
        uint16_t port = 0;  // network order
    };
    const std::vector<RetiredReal>& retired_reals() const { return retired_reals_; }

    // ServiceSnaps the last successful build() made (new or changed services), and since
    // construction; scheduler tables prepared since construction.
    size_t last_rebuilt() const { return last_rebuilt_; }
    uint64_t total_rebuilt() const { return total_rebuilt_; }
    uint64_t tables_built() const { return tables_built_; }

private:
    struct ServiceEntry;
    struct Plan;
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
    // Owner information of removed objects whose connections still drain (architecture.md,
    // "Ownership"): kept in every snapshot until collect() recycles their ids.
    struct OwnerKeys {
        std::vector<uint64_t> keys;  // lookup keys (services) or (proto, rip, rport) keys (NAT reals)
        NatRealOwner owner;
    };
    struct NatRef {
        NatRealOwner owner;
        uint32_t refs = 0;  // services (and protocols) filing a NAT real under this key
    };

    // `plans` holds every service to compare; `full` when they are the whole configuration.
    model::Result<std::unique_ptr<Snapshot>> apply_plans(const config::Config& cfg, std::vector<Plan>& plans,
                                                         uint64_t generation, bool full);
    model::Status check(const std::vector<Plan>& plans) const;
    model::Status check_limits(const std::vector<Plan>& plans) const;
    std::shared_ptr<ServiceSnap> build_service(const config::Service& svc, uint32_t id,
                                               const ServiceEntry* prev);
    void set_timeouts(uint32_t id, const config::Service* svc);
    std::unique_ptr<Snapshot> assemble(uint64_t generation);
    TunnelRoute connected_route(uint32_t addr) const;

    unsigned nworkers_;
    std::vector<PortSnap> ports_;
    TunnelRouteFn tunnel_route_;
    SnapshotLimits limits_;
    LocalAddressRegistry& laddrs_;
    IdPool service_ids_;
    IdPool real_id_pool_;
    std::vector<uint32_t> recycled_reals_, recycled_services_;
    std::vector<RetiredReal> retired_reals_;
    uint64_t next_version_ = 1;
    uint64_t sequence_ = 0;
    size_t last_rebuilt_ = 0;
    uint64_t total_rebuilt_ = 0, tables_built_ = 0;

    // The current configuration as built, per service, with everything assemble() needs so
    // that it never walks the configuration: lookup keys, NAT owner keys, local addresses.
    std::unordered_map<uint64_t, std::unique_ptr<ServiceEntry>> services_;  // by service key
    std::vector<ServiceEntry*> order_;  // services in configuration order (a removed one's place
                                        // is taken by the last, as ConfigEditor does)
    std::vector<const ServiceSnap*> service_by_id_;
    std::vector<ServiceTimeouts> timeouts_by_id_;
    std::vector<uint8_t> flags_by_id_;  // Snapshot::service_flags
    config::Timeouts global_;
    bool built_once_ = false;
    std::unordered_map<uint64_t, NatRef> nat_refs_;       // by (proto, rip, rport) key: the owner rule
    std::unordered_map<uint32_t, uint32_t> laddr_refs_;   // FULLNAT local address -> services naming it
    uint64_t expanded_ports_ = 0;                         // port-group ports mark services cover
    std::vector<std::shared_ptr<const ServiceSnap>> retired_;  // replaced, freed by collect()

    std::unordered_map<uint32_t, OwnerKeys> draining_services_;  // by service id
    std::unordered_map<uint32_t, OwnerKeys> draining_reals_;     // by real id

    // The maps of the last snapshot and whether they must be rebuilt.
    FlatMap<const ServiceSnap*> services_map_;
    FlatMap<NatRealOwner> nat_map_, draining_map_;
    FlatMap<LocalAddressInfo> local_map_;
    bool services_dirty_ = true, nat_dirty_ = true, draining_dirty_ = true, local_dirty_ = true;
};

}  // namespace dplb
