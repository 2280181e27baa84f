#include "dataplane/config/snapshot_builder.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <string>

#include "dataplane/sched/scheduler.hpp"
#include "dataplane/session/tcp_state.hpp"

namespace dplb {

namespace {

uint8_t proto_number(config::Protocol p) { return uint8_t(p); }

// Seconds to the fast path's milliseconds, clamped below 2^31 ms so deadline comparisons on
// the wrapping clock stay valid even if validation let a larger value through.
Tick ms(uint64_t seconds) { return Tick(std::min<uint64_t>(seconds * 1000, (uint64_t(1) << 31) - 600000)); }
uint16_t be16(uint16_t host) { return __builtin_bswap16(host); }

// Identity of a service across rebuilds: its lookup key, or its mark in a range no lookup
// key reaches (lookup keys use the low 56 bits).
uint64_t key_of(const config::ServiceKey& k) {
    if (k.is_fwmark()) return uint64_t(0xff) << 56 | k.fwmark;
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

std::string real_path(size_t s, size_t r) {
    return "config.services[" + std::to_string(s) + "].real_servers[" + std::to_string(r) + "]";
}

const config::PortGroup* group_of(const config::Config& cfg, uint32_t mark) {
    for (const auto& g : cfg.port_groups)
        if (g.mark == mark) return &g;
    return nullptr;
}

// Calls f(proto, addr_be, port_be) for every (protocol, address, port) that leads to `svc`.
template <class F>
void for_each_lookup_key(const config::Config& cfg, const config::Service& svc, F&& f) {
    if (!svc.key.is_fwmark()) {
        f(proto_number(svc.key.protocol), svc.key.address.be, be16(svc.key.port));
        return;
    }
    if (const config::PortGroup* g = group_of(cfg, svc.key.fwmark))
        for (const auto& m : g->matches)
            for (uint32_t port = m.first_port; port <= m.last_port; ++port)
                f(proto_number(m.protocol), m.address.be, be16(uint16_t(port)));
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

std::vector<uint32_t> SnapshotBuilder::IdPool::collect(const std::function<bool(uint32_t)>& busy) {
    std::vector<uint32_t> still, freed;
    for (uint32_t id : quarantine_) (busy(id) ? still : freed).push_back(id);
    free_.insert(free_.end(), freed.begin(), freed.end());
    quarantine_.swap(still);
    return freed;
}

SnapshotBuilder::SnapshotBuilder(unsigned nworkers, std::vector<PortSnap> ports, SnapshotLimits limits,
                                 LocalAddressRegistry& laddrs, TunnelRouteFn tunnel_route)
    : nworkers_(nworkers),
      ports_(std::move(ports)),
      tunnel_route_(std::move(tunnel_route)),
      limits_(limits),
      laddrs_(laddrs),
      service_ids_(limits.max_services),
      real_id_pool_(limits.max_reals) {
    if (!tunnel_route_) tunnel_route_ = [this](uint32_t addr) { return connected_route(addr); };
}

TunnelRoute SnapshotBuilder::connected_route(uint32_t addr) const {
    for (const auto& port : ports_)
        for (const auto& pfx : port.addresses)
            if (pfx.contains(Ip4{addr})) return {true, pfx.address.be, port.mtu};
    return {};
}

// Everything that can make a validated configuration unusable on this dataplane, checked
// before anything is allocated so that a failed build changes nothing.
model::Status SnapshotBuilder::check(const config::Config& cfg) const {
    std::unordered_map<uint64_t, NatRealOwner> nat_owner;
    uint64_t expanded = 0;
    for (size_t si = 0; si < cfg.services.size(); ++si) {
        const auto& svc = cfg.services[si];
        if (svc.key.is_fwmark())
            if (const config::PortGroup* g = group_of(cfg, svc.key.fwmark))
                for (const auto& m : g->matches) expanded += uint64_t(m.last_port) - m.first_port + 1;
        NatRealOwner owner;
        if (svc.persistence) owner = {true, svc.persistence->netmask.be};
        for (size_t ri = 0; ri < svc.reals.size(); ++ri) {
            const auto& r = svc.reals[ri];
            if (r.forward == config::ForwardMethod::dr && !connected_route(r.address.be).found)
                return model::Error{real_path(si, ri) + ".address",
                                    "a DR real server must be on a network of a dataplane port; " +
                                        r.address.str() + " is not"};
            if (r.forward == config::ForwardMethod::tunnel && !tunnel_route_(r.address.be).found)
                return model::Error{real_path(si, ri) + ".address",
                                    "no route to tunnel real server " + r.address.str()};
            if (r.forward != config::ForwardMethod::nat) continue;
            // Replies from a NAT server carry no service; their owner comes from the server.
            std::vector<uint8_t> protos;
            for_each_lookup_key(cfg, svc, [&](uint8_t proto, uint32_t, uint16_t) {
                if (protos.empty() || protos.back() != proto) protos.push_back(proto);
            });
            for (uint8_t proto : protos) {
                auto [it, fresh] =
                    nat_owner.emplace(service_lookup_key(proto, r.address.be, be16(r.port)), owner);
                if (!fresh && (it->second.persistent != owner.persistent ||
                               it->second.client_mask != owner.client_mask))
                    return model::Error{real_path(si, ri),
                                        "NAT real server " + r.address.str() + ":" + std::to_string(r.port) +
                                            " is in services with different persistence; its replies could not "
                                            "be matched to one worker"};
            }
        }
    }
    if (expanded > limits_.max_port_group_ports)
        return model::Error{"config.port_groups", "port groups used by services cover " + std::to_string(expanded) +
                                                      " ports (limit " + std::to_string(limits_.max_port_group_ports) +
                                                      ")"};
    return std::nullopt;
}

std::shared_ptr<ServiceSnap> SnapshotBuilder::build_service(
    const config::Service& svc, const config::Timeouts& global, uint32_t id,
    const std::unordered_map<RealKey, uint32_t, RealKeyHash>& real_ids) {
    auto snap = std::make_shared<ServiceSnap>();
    snap->id = id;
    snap->version = next_version_++;
    snap->fwmark = svc.key.fwmark;
    if (!svc.key.is_fwmark()) {
        snap->proto = proto_number(svc.key.protocol);
        snap->vip = svc.key.address.be;
        snap->vport = be16(svc.key.port);
    }
    snap->scheduler = svc.scheduler;
    snap->sched_flags = svc.sched_flags;
    snap->mh_table_size = svc.mh_table_size;
    if (svc.persistence) {
        snap->persistent = true;
        snap->persist_mask = svc.persistence->netmask.be;
        snap->persist_timeout_ms = ms(svc.persistence->timeout);
    }
    for (unsigned s = 0; s < session_state_count; ++s) snap->timeout_ms[s] = ms(default_state_timeout_s[s]);
    snap->timeout_ms[unsigned(SessionState::tcp_established)] = ms(svc.timeouts.tcp.value_or(global.tcp));
    snap->timeout_ms[unsigned(SessionState::tcp_fin_wait)] = ms(svc.timeouts.tcp_fin.value_or(global.tcp_fin));
    snap->timeout_ms[unsigned(SessionState::udp)] = ms(svc.timeouts.udp.value_or(global.udp));

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
        if (rs.mode == ForwardMode::tunnel) {
            TunnelRoute tr = tunnel_route_(rs.addr);
            rs.tunnel_source = tr.source;
            rs.tunnel_mtu = tr.mtu;
        }
        snap->reals.push_back(rs);
    }
    for (const auto& a : svc.local_addresses) snap->laddr_ids.push_back(laddrs_.acquire(a.be));
    return snap;  // scheduler tables are prepared by build(), in parallel
}

model::Result<std::unique_ptr<Snapshot>> SnapshotBuilder::build(const config::Config& cfg, uint64_t generation) {
    recycled_reals_.clear();
    recycled_services_.clear();
    if (auto e = check(cfg)) return *e;

    // Check every limit before taking any id, so a failed build changes nothing.
    uint32_t new_services = 0, new_reals = 0, new_laddrs = 0;
    std::unordered_set<uint32_t> laddrs;
    for (const auto& svc : cfg.services) {
        uint64_t skey = key_of(svc.key);
        if (!services_.count(skey)) ++new_services;
        for (const auto& r : svc.reals)
            if (!real_ids_.count(RealKey{skey, uint64_t(r.address.be) << 16 | r.port})) ++new_reals;
        for (const auto& a : svc.local_addresses)
            if (laddrs.insert(a.be).second && !laddrs_.contains(a.be)) ++new_laddrs;
    }
    if (new_services > service_ids_.available())
        return model::Error{"config.services", "too many services for this dataplane (limit " +
                                                   std::to_string(limits_.max_services) +
                                                   ", including removed ones still holding sessions)"};
    if (new_reals > real_id_pool_.available())
        return model::Error{"config.services", "too many real servers for this dataplane (limit " +
                                                   std::to_string(limits_.max_reals) +
                                                   ", including removed ones still holding sessions)"};
    if (new_laddrs > laddrs_.available())
        return model::Error{"config.services", "too many local addresses (limit " +
                                                   std::to_string(LocalAddressRegistry::max_ids) +
                                                   ", including removed ones still holding ports)"};

    std::unordered_map<uint64_t, ServiceEntry> services;
    std::unordered_map<RealKey, uint32_t, RealKeyHash> real_ids;
    std::vector<ServiceSnap*> to_prepare;
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
        // Routes and port MTUs are fixed at start, so an unchanged service stays valid.
        if (!entry.snap || !(entry.config == svc) || !(entry.global == cfg.timeouts)) {
            auto fresh = build_service(svc, cfg.timeouts, entry.id, real_ids);
            to_prepare.push_back(fresh.get());
            entry.snap = std::move(fresh);
            entry.config = svc;
            entry.global = cfg.timeouts;
        }
        services.emplace(skey, std::move(entry));
    }
    // Scheduler tables (a Maglev table is ~1-2 ms each) for every changed service, in parallel.
    tbb::parallel_for(size_t(0), to_prepare.size(),
                      [&](size_t i) { prepare_scheduler(*to_prepare[i], nworkers_); });

    // What is left in the old maps was removed: its ids wait until no session uses them, and
    // its connections keep finding their worker meanwhile.
    for (auto& [k, e] : services_) {
        service_ids_.retire(e.id);
        if (auto it = service_keys_.find(e.id); it != service_keys_.end()) draining_services_[e.id] = it->second;
    }
    for (auto& [k, id] : real_ids_) {
        real_id_pool_.retire(id);
        if (auto it = nat_keys_.find(id); it != nat_keys_.end()) draining_reals_[id] = it->second;
    }
    services_ = std::move(services);
    real_ids_ = std::move(real_ids);
    referenced_laddrs_ = std::move(laddrs);
    return assemble(cfg, generation);
}

std::unique_ptr<Snapshot> SnapshotBuilder::assemble(const config::Config& cfg, uint64_t generation) {
    auto snap = std::make_unique<Snapshot>();
    snap->generation = generation;
    snap->sequence = ++sequence_;
    snap->nworkers = nworkers_;
    snap->ports = ports_;
    snap->service_by_id.assign(limits_.max_services, nullptr);

    for (unsigned s = 0; s < session_state_count; ++s) snap->timeout_ms[s] = ms(default_state_timeout_s[s]);
    snap->timeout_ms[unsigned(SessionState::tcp_established)] = ms(cfg.timeouts.tcp);
    snap->timeout_ms[unsigned(SessionState::tcp_fin_wait)] = ms(cfg.timeouts.tcp_fin);
    snap->timeout_ms[unsigned(SessionState::udp)] = ms(cfg.timeouts.udp);

    std::vector<std::pair<uint64_t, const ServiceSnap*>> by_key;
    std::vector<std::pair<uint64_t, NatRealOwner>> nat_reals, draining;
    std::unordered_map<uint32_t, LocalAddressInfo> locals;
    service_keys_.clear();
    nat_keys_.clear();

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
        const ServiceSnap* s = entry.snap.get();
        snap->service_objects.push_back(entry.snap);
        snap->service_by_id[s->id] = s;
        NatRealOwner owner;
        if (s->persistent) owner = {true, s->persist_mask};
        OwnerKeys& skeys = service_keys_[s->id];
        skeys.owner = owner;
        for_each_lookup_key(cfg, svc, [&](uint8_t proto, uint32_t addr, uint16_t port) {
            uint64_t key = service_lookup_key(proto, addr, port);
            by_key.emplace_back(key, s);
            skeys.keys.push_back(key);
            add_local(addr, local_vip);
            for (const auto& r : s->reals)
                if (r.mode == ForwardMode::nat) {
                    uint64_t nat_key = service_lookup_key(proto, r.addr, r.port);
                    nat_reals.emplace_back(nat_key, owner);
                    OwnerKeys& nk = nat_keys_[r.id];
                    nk.keys.push_back(nat_key);
                    nk.owner = owner;
                }
        });
        for (const auto& a : svc.local_addresses) add_local(a.be, local_snat);
    }
    // Removed objects still holding connections: their packets must keep reaching their
    // worker, and their addresses keep being answered for ARP. Live entries come later in
    // the lists, so they win over draining ones on a clash.
    for (const auto& [id, d] : draining_services_)
        for (uint64_t key : d.keys) {
            draining.emplace_back(key, d.owner);
            add_local(uint32_t(key), local_vip);
        }
    std::vector<std::pair<uint64_t, NatRealOwner>> live_nat = std::move(nat_reals);
    nat_reals.clear();
    for (const auto& [id, d] : draining_reals_)
        for (uint64_t key : d.keys) nat_reals.emplace_back(key, d.owner);
    nat_reals.insert(nat_reals.end(), live_nat.begin(), live_nat.end());
    laddrs_.for_each_address([&](uint32_t addr) { add_local(addr, local_snat); });
    std::vector<std::pair<uint64_t, LocalAddressInfo>> local_items(locals.begin(), locals.end());
    snap->services = FlatMap<const ServiceSnap*>(by_key);
    snap->nat_reals = FlatMap<NatRealOwner>(nat_reals);
    snap->draining_services = FlatMap<NatRealOwner>(draining);
    snap->local_addresses = FlatMap<LocalAddressInfo>(local_items);
    return snap;
}

void SnapshotBuilder::collect(const std::function<bool(uint32_t)>& real_busy,
                              const std::function<bool(uint32_t)>& service_busy) {
    for (uint32_t id : real_id_pool_.collect(real_busy)) draining_reals_.erase(id);
    for (uint32_t id : service_ids_.collect(service_busy)) draining_services_.erase(id);
    laddrs_.collect(referenced_laddrs_);
}

}  // namespace dplb
