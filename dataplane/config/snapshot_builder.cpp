#include "dataplane/config/snapshot_builder.hpp"

#include <string>

#include "dataplane/sched/scheduler.hpp"
#include "dataplane/session/tcp_state.hpp"

namespace dplb {

namespace {

uint8_t proto_number(config::Protocol p) { return uint8_t(p); }
uint16_t be16(uint16_t host) { return __builtin_bswap16(host); }

uint64_t key_of(const config::ServiceKey& k) {
    return service_lookup_key(proto_number(k.protocol), k.address.be, be16(k.port));
}

ForwardMode mode_of(config::ForwardMethod m) {
    switch (m) {
    case config::ForwardMethod::nat: return ForwardMode::nat;
    case config::ForwardMethod::fullnat: return ForwardMode::fullnat;
    case config::ForwardMethod::dr: return ForwardMode::dr;
    case config::ForwardMethod::tunnel: return ForwardMode::tunnel;
    }
    return ForwardMode::nat;
}

}  // namespace

SnapshotBuilder::IdPool::IdPool(uint32_t n) : used_before_(n, false) {
    free_.reserve(n);
    for (uint32_t i = n; i > 0; --i) free_.push_back(i - 1);
}

bool SnapshotBuilder::IdPool::take(uint32_t& id, bool& recycled) {
    if (free_.empty()) return false;
    id = free_.back();
    free_.pop_back();
    recycled = used_before_[id];
    used_before_[id] = true;
    return true;
}

void SnapshotBuilder::IdPool::collect(const std::function<bool(uint32_t)>& busy) {
    std::vector<uint32_t> still;
    for (uint32_t id : quarantine_) (busy(id) ? still : free_).push_back(id);
    quarantine_.swap(still);
}

SnapshotBuilder::SnapshotBuilder(unsigned nworkers, std::vector<PortSnap> ports, SnapshotLimits limits,
                                 LocalAddressRegistry& laddrs)
    : nworkers_(nworkers),
      ports_(std::move(ports)),
      limits_(limits),
      laddrs_(laddrs),
      service_ids_(limits.max_services),
      real_id_pool_(limits.max_reals) {}

std::shared_ptr<const ServiceSnap> SnapshotBuilder::build_service(
    const config::Service& svc, uint32_t id, const std::unordered_map<RealKey, uint32_t, RealKeyHash>& real_ids) {
    auto snap = std::make_shared<ServiceSnap>();
    snap->id = id;
    snap->version = next_version_++;
    snap->proto = proto_number(svc.key.protocol);
    snap->vip = svc.key.address.be;
    snap->vport = be16(svc.key.port);
    snap->scheduler = svc.scheduler;
    snap->sched_flags = svc.sched_flags;
    snap->mh_table_size = svc.mh_table_size;
    uint64_t skey = key_of(svc.key);
    for (const auto& r : svc.reals) {
        RealSnap rs;
        rs.addr = r.address.be;
        rs.port = be16(r.port);
        rs.mode = mode_of(r.forward);
        rs.weight = r.weight;
        rs.upper_threshold = r.upper_threshold;
        rs.lower_threshold = r.lower_threshold;
        rs.id = real_ids.at(RealKey{skey, uint64_t(r.address.be) << 16 | r.port});
        snap->reals.push_back(rs);
    }
    for (const auto& a : svc.local_addresses) snap->laddr_ids.push_back(laddrs_.acquire(a.be));
    prepare_scheduler(*snap, nworkers_);
    return snap;
}

model::Result<std::unique_ptr<Snapshot>> SnapshotBuilder::build(const config::Config& cfg, uint64_t generation) {
    recycled_reals_.clear();
    recycled_services_.clear();

    // Check every limit before taking any id, so a failed build changes nothing.
    uint32_t new_services = 0, new_reals = 0;
    std::unordered_set<uint32_t> laddrs;
    for (const auto& svc : cfg.services) {
        uint64_t skey = key_of(svc.key);
        if (!services_.count(skey)) ++new_services;
        for (const auto& r : svc.reals)
            if (!real_ids_.count(RealKey{skey, uint64_t(r.address.be) << 16 | r.port})) ++new_reals;
        for (const auto& a : svc.local_addresses) laddrs.insert(a.be);
    }
    if (new_services > service_ids_.available())
        return model::Error{"config.services", "too many services for this dataplane (limit " +
                                                   std::to_string(limits_.max_services) + ", including removed ones still holding sessions)"};
    if (new_reals > real_id_pool_.available())
        return model::Error{"config.services", "too many real servers for this dataplane (limit " +
                                                   std::to_string(limits_.max_reals) + ", including removed ones still holding sessions)"};
    // Addresses the registry does not know yet need a free id; entries of removed addresses
    // whose ports are still in use hold theirs.
    size_t new_laddrs = 0;
    for (uint32_t a : laddrs) new_laddrs += !laddrs_.contains(a);
    if (laddrs.size() > LocalAddressRegistry::max_ids || new_laddrs > laddrs_.available())
        return model::Error{"config.services", "too many local addresses (limit " +
                                                   std::to_string(LocalAddressRegistry::max_ids) +
                                                   ", including removed ones still holding ports)"};

    std::unordered_map<uint64_t, ServiceEntry> services;
    std::unordered_map<RealKey, uint32_t, RealKeyHash> real_ids;
    for (const auto& svc : cfg.services) {
        uint64_t skey = key_of(svc.key);
        for (const auto& r : svc.reals) {
            RealKey rk{skey, uint64_t(r.address.be) << 16 | r.port};
            auto it = real_ids_.find(rk);
            uint32_t id;
            bool recycled = false;
            if (it != real_ids_.end()) {
                id = it->second;
                real_ids_.erase(it);
            } else {
                real_id_pool_.take(id, recycled);
                if (recycled) recycled_reals_.push_back(id);
            }
            real_ids.emplace(rk, id);
        }
        auto prev = services_.find(skey);
        ServiceEntry entry;
        if (prev != services_.end()) {
            entry = std::move(prev->second);
            services_.erase(prev);
        } else {
            bool recycled = false;
            service_ids_.take(entry.id, recycled);
            if (recycled) recycled_services_.push_back(entry.id);
        }
        if (!entry.snap || !(entry.config == svc)) {
            entry.snap = build_service(svc, entry.id, real_ids);
            entry.config = svc;
        }
        services.emplace(skey, std::move(entry));
    }
    // What is left in the old maps was removed: its ids wait until no session uses them.
    for (auto& [k, e] : services_) service_ids_.retire(e.id);
    for (auto& [k, id] : real_ids_) real_id_pool_.retire(id);
    services_ = std::move(services);
    real_ids_ = std::move(real_ids);
    referenced_laddrs_ = std::move(laddrs);
    return assemble(cfg, generation);
}

std::unique_ptr<Snapshot> SnapshotBuilder::assemble(const config::Config& cfg, uint64_t generation) const {
    auto snap = std::make_unique<Snapshot>();
    snap->generation = generation;
    snap->nworkers = nworkers_;
    snap->ports = ports_;

    for (unsigned s = 0; s < session_state_count; ++s) snap->timeout_ms[s] = default_state_timeout_s[s] * 1000;
    snap->timeout_ms[unsigned(SessionState::tcp_established)] = cfg.timeouts.tcp * 1000;
    snap->timeout_ms[unsigned(SessionState::tcp_fin_wait)] = cfg.timeouts.tcp_fin * 1000;
    snap->timeout_ms[unsigned(SessionState::udp)] = cfg.timeouts.udp * 1000;

    std::vector<std::pair<uint64_t, const ServiceSnap*>> by_key;
    std::vector<std::pair<uint64_t, uint8_t>> nat_reals;
    std::unordered_map<uint32_t, LocalAddressInfo> locals;

    // ARP for a VIP or local address is answered on the ports whose connected networks hold
    // it; an address on no connected network is answered on every port.
    const uint32_t all_ports = ports_.size() >= 32 ? ~0u : (1u << ports_.size()) - 1;
    auto arp_ports_for = [&](uint32_t addr) {
        uint32_t mask = 0;
        for (size_t p = 0; p < ports_.size() && p < 32; ++p)
            for (const auto& pfx : ports_[p].addresses)
                if (pfx.contains(Ip4{addr})) mask |= 1u << p;
        return mask ? mask : all_ports;
    };
    for (size_t p = 0; p < ports_.size() && p < 32; ++p)
        for (const auto& pfx : ports_[p].addresses) {
            auto& info = locals[pfx.address.be];
            info.kinds |= local_interface;
            info.arp_ports |= 1u << p;
        }
    auto add_local = [&](uint32_t addr, uint8_t kind) {
        auto& info = locals[addr];
        if (!(info.kinds & (local_vip | local_snat))) info.arp_ports |= arp_ports_for(addr);
        info.kinds |= kind;
    };

    for (const auto& svc : cfg.services) {
        const auto& entry = services_.at(key_of(svc.key));
        by_key.emplace_back(key_of(svc.key), entry.snap.get());
        snap->service_objects.push_back(entry.snap);
        add_local(svc.key.address.be, local_vip);
        for (const auto& a : svc.local_addresses) add_local(a.be, local_snat);
        for (const auto& r : entry.snap->reals)
            if (r.mode == ForwardMode::nat) nat_reals.emplace_back(service_lookup_key(entry.snap->proto, r.addr, r.port), 1);
    }
    std::vector<std::pair<uint64_t, LocalAddressInfo>> local_items(locals.begin(), locals.end());
    snap->services = FlatMap<const ServiceSnap*>(by_key);
    snap->nat_reals = FlatMap<uint8_t>(nat_reals);
    snap->local_addresses = FlatMap<LocalAddressInfo>(local_items);
    return snap;
}

void SnapshotBuilder::collect(const std::function<bool(uint32_t)>& real_busy,
                              const std::function<bool(uint32_t)>& service_busy) {
    real_id_pool_.collect(real_busy);
    service_ids_.collect(service_busy);
    laddrs_.collect(referenced_laddrs_);
}

}  // namespace dplb
