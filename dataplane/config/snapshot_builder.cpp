#include "dataplane/config/snapshot_builder.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <string>

#include "dataplane/sched/scheduler.hpp"
#include "dataplane/session/tcp_state.hpp"
#include "model/describe.hpp"
#include "model/scheduling_set.hpp"

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

std::string real_path(const std::string& service_path, size_t r) {
    return service_path + ".real_servers[" + std::to_string(r) + "]";
}

uint64_t real_key(Ip4 addr, uint16_t port) { return uint64_t(addr.be) << 16 | port; }

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

// One service to compare and, if it changed, to rebuild: built before anything changes so
// that every check runs first and a failed build changes nothing.
struct SnapshotBuilder::Plan {
    uint64_t skey = 0;
    const config::Service* cfg = nullptr;  // nullptr: removed
    ServiceEntry* old = nullptr;           // nullptr: added
    std::string path;                      // how errors name it
    bool rebuild = false;                  // a new ServiceSnap (added or changed)
    bool rekey = false;                    // same ServiceSnap, its port group moved its lookup keys
    bool retime = false;                   // same ServiceSnap, its timeout overrides changed
    std::vector<uint64_t> keys;            // lookup keys (rebuild or rekey)
    std::vector<uint8_t> protos;           // their distinct protocols
    NatRealOwner owner;
    uint64_t expanded = 0;                 // port-group ports (mark services)
};

// A service as last built, with what assemble() and the checks need from it.
struct SnapshotBuilder::ServiceEntry {
    uint64_t skey = 0;
    uint32_t id = 0;
    size_t pos = 0;  // in order_
    config::Service config;
    std::shared_ptr<const ServiceSnap> snap;
    std::vector<uint64_t> keys;      // service_lookup_key of every (proto, addr, port) it covers
    std::vector<uint8_t> protos;     // distinct protocols of `keys`
    std::vector<uint64_t> nat_keys;  // (proto, rip, rport) of its NAT real servers
    NatRealOwner owner;
    uint64_t expanded = 0;
};

namespace {

// Lookup keys, their protocols and the port-group ports of `svc` in `cfg`.
void lookup_keys(const config::Config& cfg, const config::Service& svc, std::vector<uint64_t>& keys,
                 std::vector<uint8_t>& protos, uint64_t& expanded) {
    keys.clear();
    protos.clear();
    expanded = 0;
    for_each_lookup_key(cfg, svc, [&](uint8_t proto, uint32_t addr, uint16_t port) {
        keys.push_back(service_lookup_key(proto, addr, port));
        if (std::find(protos.begin(), protos.end(), proto) == protos.end()) protos.push_back(proto);
    });
    if (svc.key.is_fwmark()) expanded = keys.size();
}

// Every configured NAT server's keys, in or out of the scheduling set: replies of the
// connections of a server the health checker removed must still find their worker.
std::vector<uint64_t> nat_keys_of(const config::Service& svc, const std::vector<uint8_t>& protos) {
    std::vector<uint64_t> out;
    model::for_each_configured_server(svc, [&](const config::RealServer& r) {
        if (r.forward == config::ForwardMethod::nat)
            for (uint8_t proto : protos) out.push_back(service_lookup_key(proto, r.address.be, be16(r.port)));
    });
    // A sorry server at a NAT real server's address and port is one server.
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// real_key() of every server a ServiceSnap gives an id (scheduling set and standby).
template <class F>
void for_each_id_holder(const ServiceSnap& s, F&& f) {
    for (const auto& r : s.reals) f(r);
    for (const auto& r : s.standby) f(r);
}

ServiceTimeouts timeouts_of(const config::Timeouts& global, const config::TimeoutOverrides* o) {
    if (!o) return {ms(global.tcp), ms(global.tcp_fin), ms(global.udp)};
    return {ms(o->tcp.value_or(global.tcp)), ms(o->tcp_fin.value_or(global.tcp_fin)), ms(o->udp.value_or(global.udp))};
}

}  // namespace

SnapshotBuilder::SnapshotBuilder(unsigned nworkers, std::vector<PortSnap> ports, SnapshotLimits limits,
                                 LocalAddressRegistry& laddrs, TunnelRouteFn tunnel_route)
    : nworkers_(nworkers),
      ports_(std::move(ports)),
      tunnel_route_(std::move(tunnel_route)),
      limits_(limits),
      laddrs_(laddrs),
      service_ids_(limits.max_services),
      real_id_pool_(limits.max_reals),
      service_by_id_(limits.max_services, nullptr),
      timeouts_by_id_(limits.max_services, timeouts_of(config::Timeouts{}, nullptr)),
      flags_by_id_(limits.max_services, 0) {
    if (!tunnel_route_) tunnel_route_ = [this](uint32_t addr) { return connected_route(addr); };
}

SnapshotBuilder::~SnapshotBuilder() = default;

TunnelRoute SnapshotBuilder::connected_route(uint32_t addr) const {
    for (const auto& port : ports_)
        for (const auto& pfx : port.addresses)
            if (pfx.contains(Ip4{addr})) return {true, pfx.address.be, port.mtu};
    return {};
}

// Everything that can make a validated configuration unusable on this dataplane, checked for
// the services that change, before anything is allocated, so that a failed build changes
// nothing: routes of DR/TUN real servers, the NAT owner rule against every other service
// (nat_refs_), the port-group expansion limit.
model::Status SnapshotBuilder::check(const std::vector<Plan>& plans) const {
    std::unordered_map<uint64_t, uint32_t> leaving;  // NAT keys the changing services give up
    uint64_t expanded = expanded_ports_;
    for (const Plan& p : plans) {
        if (!p.old || !(p.rebuild || p.rekey || !p.cfg)) continue;
        for (uint64_t k : p.old->nat_keys) ++leaving[k];
        expanded -= p.old->expanded;
    }
    std::unordered_map<uint64_t, NatRealOwner> arriving;
    // One configured server (real or sorry, whatever its health: it may come back) named
    // `where` in errors.
    auto check_server = [&](const Plan& p, const config::RealServer& r, const std::string& where) -> model::Status {
        if (p.rebuild && r.forward == config::ForwardMethod::dr && !connected_route(r.address.be).found)
            return model::Error{where + ".address", "a DR real server must be on a network of a dataplane port; " +
                                                        r.address.str() + " is not"};
        if (p.rebuild && r.forward == config::ForwardMethod::tunnel && !tunnel_route_(r.address.be).found)
            return model::Error{where + ".address", "no route to tunnel real server " + r.address.str()};
        if (r.forward != config::ForwardMethod::nat) return std::nullopt;
        // Replies from a NAT server carry no service; their owner comes from the server.
        for (uint8_t proto : p.protos) {
            uint64_t key = service_lookup_key(proto, r.address.be, be16(r.port));
            auto differs = [&](const NatRealOwner& o) {
                return o.persistent != p.owner.persistent || o.client_mask != p.owner.client_mask;
            };
            auto [it, fresh] = arriving.emplace(key, p.owner);
            bool clash = !fresh && differs(it->second);
            if (auto ref = nat_refs_.find(key); !clash && ref != nat_refs_.end()) {
                auto gone = leaving.find(key);
                uint32_t left = gone == leaving.end() ? 0 : gone->second;
                clash = ref->second.refs > left && differs(ref->second.owner);
            }
            if (clash)
                return model::Error{where, "NAT real server " + r.address.str() + ":" + std::to_string(r.port) +
                                               " is in services with different persistence; its replies could not "
                                               "be matched to one worker"};
        }
        return std::nullopt;
    };
    for (const Plan& p : plans) {
        if (!p.cfg || !(p.rebuild || p.rekey)) continue;
        expanded += p.expanded;
        for (size_t ri = 0; ri < p.cfg->reals.size(); ++ri)
            if (auto e = check_server(p, p.cfg->reals[ri], real_path(p.path, ri))) return e;
        if (p.cfg->sorry_server)
            if (auto e = check_server(p, model::sorry_as_real(*p.cfg->sorry_server), p.path + ".sorry_server"))
                return e;
    }
    if (expanded > limits_.max_port_group_ports)
        return model::Error{"config.port_groups", "port groups used by services cover " + std::to_string(expanded) +
                                                      " ports (limit " + std::to_string(limits_.max_port_group_ports) +
                                                      ")"};
    return std::nullopt;
}

// Every id limit, before any id is taken.
model::Status SnapshotBuilder::check_limits(const std::vector<Plan>& plans) const {
    uint32_t new_services = 0, new_reals = 0, new_laddrs = 0;
    std::unordered_set<uint32_t> laddrs;
    std::unordered_set<uint64_t> had;
    for (const Plan& p : plans) {
        if (!p.cfg || !p.rebuild) continue;
        if (!p.old) ++new_services;
        had.clear();
        if (p.old)
            for_each_id_holder(*p.old->snap, [&](const RealSnap& r) { had.insert(real_key(Ip4{r.addr}, be16(r.port))); });
        // Every configured server needs an id, in the scheduling set or not (a sorry server at
        // a real server's address and port shares its id).
        model::for_each_configured_server(*p.cfg, [&](const config::RealServer& r) {
            if (had.insert(real_key(r.address, r.port)).second) ++new_reals;
        });
        for (const auto& a : p.cfg->local_addresses)
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
    return std::nullopt;
}

std::shared_ptr<ServiceSnap> SnapshotBuilder::build_service(const config::Service& svc, uint32_t id,
                                                            const ServiceEntry* prev) {
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
    // A server keeps its id while it stays in the service's configuration, in the scheduling
    // set or out of it (standby), and an address:port has one id (a sorry server at a real
    // server's place is that server).
    std::unordered_map<uint64_t, uint32_t> prev_ids, ids;
    if (prev)
        for_each_id_holder(*prev->snap, [&](const RealSnap& r) { prev_ids.emplace(real_key(Ip4{r.addr}, be16(r.port)), r.id); });
    auto make = [&](Ip4 address, uint16_t port, config::ForwardMethod forward, uint32_t weight) {
        RealSnap rs;
        rs.addr = address.be;
        rs.port = be16(port);
        rs.mode = mode_of(forward);
        rs.weight = weight;
        const uint64_t key = real_key(address, port);
        if (auto it = prev_ids.find(key); it != prev_ids.end()) {
            rs.id = it->second;
        } else {
            bool recycled = false;
            real_id_pool_.take(rs.id, recycled);  // check_limits() made sure one is free
            if (recycled) recycled_reals_.push_back(rs.id);
        }
        ids.emplace(key, rs.id);
        if (rs.mode == ForwardMode::tunnel) {
            TunnelRoute tr = tunnel_route_(rs.addr);
            rs.tunnel_source = tr.source;
            rs.tunnel_mtu = tr.mtu;
        }
        return rs;
    };
    const auto set = model::scheduling_set(svc);
    snap->reals.reserve(set.size());
    for (const auto& e : set) {
        RealSnap rs = make(e.address, e.port, e.forward, e.weight);
        rs.upper_threshold = e.upper_threshold;
        rs.lower_threshold = e.lower_threshold;
        snap->reals.push_back(rs);
    }
    model::for_each_configured_server(svc, [&](const config::RealServer& r) {
        if (!ids.count(real_key(r.address, r.port))) snap->standby.push_back(make(r.address, r.port, r.forward, 0));
    });
    snap->expire_nodest_conn = svc.expire_nodest_conn;
    // Indexed where a per-packet check needs it (expire_nodest_conn) and wherever a scan
    // would not be cheap: a client may repeat SYNs on a session to a server that left.
    snap->real_indexed = svc.expire_nodest_conn || snap->reals.size() > real_scan_limit;
    if (snap->real_indexed) {
        std::vector<std::pair<uint64_t, uint32_t>> index;
        index.reserve(snap->reals.size());
        for (size_t i = 0; i < snap->reals.size(); ++i) index.emplace_back(snap->reals[i].id, uint32_t(i));
        snap->real_index = FlatMap<uint32_t>(index);
    }
    for (const auto& a : svc.local_addresses) snap->laddr_ids.push_back(laddrs_.acquire(a.be));
    return snap;  // scheduler tables are prepared by apply_plans(), in parallel
}

void SnapshotBuilder::set_timeouts(uint32_t id, const config::Service* svc) {
    timeouts_by_id_[id] = timeouts_of(global_, svc ? &svc->timeouts : nullptr);
}

model::Result<std::unique_ptr<Snapshot>> SnapshotBuilder::build(const config::Config& cfg, uint64_t generation) {
    std::unordered_map<uint64_t, size_t> index;  // service key -> position in cfg
    index.reserve(cfg.services.size());
    for (size_t i = 0; i < cfg.services.size(); ++i) index.emplace(key_of(cfg.services[i].key), i);
    std::vector<Plan> plans;
    for (size_t i = 0; i < cfg.services.size(); ++i) {
        const config::Service& svc = cfg.services[i];
        Plan p;
        p.skey = key_of(svc.key);
        p.cfg = &svc;
        auto old = services_.find(p.skey);
        p.old = old == services_.end() ? nullptr : old->second.get();
        if (p.old && p.old->config == svc && !svc.key.is_fwmark()) continue;  // unchanged
        p.path = "config.services[" + std::to_string(i) + "]";
        plans.push_back(std::move(p));
    }
    for (const auto& [skey, e] : services_)
        if (!index.count(skey)) {
            Plan p;
            p.skey = skey;
            p.old = e.get();
            plans.push_back(std::move(p));
        }
    return apply_plans(cfg, plans, generation, true);
}

model::Result<std::unique_ptr<Snapshot>> SnapshotBuilder::build(const config::Config& cfg,
                                                                const model::Touched& touched, uint64_t generation,
                                                                const FindServiceFn& find) {
    if (touched.everything || !built_once_) return build(cfg, generation);
    std::vector<Plan> plans;
    std::unordered_set<uint64_t> seen;
    auto consider = [&](const config::ServiceKey& key) {
        uint64_t skey = key_of(key);
        if (!seen.insert(skey).second) return;
        Plan p;
        p.skey = skey;
        p.cfg = find(key);
        auto old = services_.find(skey);
        p.old = old == services_.end() ? nullptr : old->second.get();
        if (!p.cfg && !p.old) return;
        if (p.cfg && p.old && p.old->config == *p.cfg && !key.is_fwmark()) return;
        p.path = "services[" + model::describe(key) + "]";
        plans.push_back(std::move(p));
    };
    for (const auto& key : touched.services) consider(key);
    if (touched.port_groups) {
        // Mark services keep their ServiceSnap; their lookup keys are compared again.
        std::vector<config::ServiceKey> marks;
        for (const ServiceEntry* e : order_)
            if (e->config.key.is_fwmark()) marks.push_back(e->config.key);
        for (const auto& key : marks) consider(key);
    }
    return apply_plans(cfg, plans, generation, false);
}

model::Result<std::unique_ptr<Snapshot>> SnapshotBuilder::apply_plans(const config::Config& cfg,
                                                                      std::vector<Plan>& plans, uint64_t generation,
                                                                      bool full) {
    recycled_reals_.clear();
    recycled_services_.clear();
    retired_reals_.clear();
    // Classify: what each plan changes, and the lookup keys it will have.
    for (Plan& p : plans) {
        if (!p.cfg) continue;
        // A service whose only change is its timeouts keeps its ServiceSnap (and tables):
        // timeouts reach sessions through the snapshot's per-service timeouts.
        p.retime = p.old && p.old->config.timeouts != p.cfg->timeouts;
        p.rebuild = !p.old || !(p.old->config == *p.cfg);
        if (p.rebuild && p.retime) {
            config::Service same_timeouts = p.old->config;
            same_timeouts.timeouts = p.cfg->timeouts;
            p.rebuild = !(same_timeouts == *p.cfg);
        }
        if (p.cfg->persistence) p.owner = {true, p.cfg->persistence->netmask.be};
        lookup_keys(cfg, *p.cfg, p.keys, p.protos, p.expanded);
        p.rekey = !p.rebuild && p.keys != p.old->keys;
    }
    std::erase_if(plans, [](const Plan& p) { return p.cfg && !p.rebuild && !p.rekey && !p.retime; });
    if (auto e = check(plans)) return *e;
    if (auto e = check_limits(plans)) return *e;

    // Nothing fails from here on.
    const bool timeouts_changed = !built_once_ || !(cfg.timeouts == global_);
    global_ = cfg.timeouts;
    auto release = [&](ServiceEntry& e) {  // its share of the NAT owner rule and local addresses
        for (uint64_t k : e.nat_keys)
            if (auto it = nat_refs_.find(k); it != nat_refs_.end() && --it->second.refs == 0) nat_refs_.erase(it);
        for (const auto& a : e.config.local_addresses)
            if (auto it = laddr_refs_.find(a.be); it != laddr_refs_.end() && --it->second == 0) laddr_refs_.erase(it);
        expanded_ports_ -= e.expanded;
    };
    auto hold = [&](ServiceEntry& e) {
        for (uint64_t k : e.nat_keys) {
            NatRef& r = nat_refs_[k];
            r.owner = e.owner;
            ++r.refs;
        }
        for (const auto& a : e.config.local_addresses) ++laddr_refs_[a.be];
        expanded_ports_ += e.expanded;
    };
    auto retire_real = [&](const RealSnap& r, const ServiceEntry& e) {
        real_id_pool_.retire(r.id);
        retired_reals_.push_back(RetiredReal{r.id, e.config.key, r.addr, r.port});
        if (r.mode == ForwardMode::nat && !e.protos.empty()) {
            OwnerKeys& d = draining_reals_[r.id];
            d.owner = e.owner;
            d.keys.clear();
            for (uint8_t proto : e.protos) d.keys.push_back(service_lookup_key(proto, r.addr, r.port));
            nat_dirty_ = true;
        }
    };

    std::vector<ServiceSnap*> to_prepare;
    std::vector<std::pair<ServiceSnap*, const ServiceSnap*>> carry;
    for (Plan& p : plans) {
        if (!p.cfg) {  // removed: its ids wait until no session uses them, its connections drain
            ServiceEntry& e = *p.old;
            release(e);
            service_ids_.retire(e.id);
            draining_services_[e.id] = OwnerKeys{e.keys, e.owner};
            for_each_id_holder(*e.snap, [&](const RealSnap& r) { retire_real(r, e); });
            service_by_id_[e.id] = nullptr;
            set_timeouts(e.id, nullptr);
            retired_.push_back(std::move(e.snap));
            order_[e.pos] = order_.back();
            order_[e.pos]->pos = e.pos;
            order_.pop_back();
            if (!e.nat_keys.empty()) nat_dirty_ = true;
            services_dirty_ = draining_dirty_ = local_dirty_ = true;
            services_.erase(p.skey);
            continue;
        }
        ServiceEntry* e = p.old;
        if (e) {
            release(*e);
        } else {
            auto fresh = std::make_unique<ServiceEntry>();
            e = fresh.get();
            e->skey = p.skey;
            bool recycled = false;
            service_ids_.take(e->id, recycled);  // check_limits() made sure one is free
            if (recycled) recycled_services_.push_back(e->id);
            e->pos = order_.size();
            order_.push_back(e);
            services_.emplace(p.skey, std::move(fresh));
        }
        const bool laddrs_moved = !p.old || p.old->config.local_addresses != p.cfg->local_addresses;
        const bool keys_moved = !p.old || p.old->keys != p.keys;
        if (p.rebuild) {
            auto snap = build_service(*p.cfg, e->id, p.old);
            to_prepare.push_back(snap.get());
            if (p.old) {
                carry.emplace_back(snap.get(), p.old->snap.get());
                std::unordered_set<uint32_t> kept;
                for_each_id_holder(*snap, [&](const RealSnap& r) { kept.insert(r.id); });
                for_each_id_holder(*p.old->snap, [&](const RealSnap& r) {
                    if (!kept.count(r.id)) retire_real(r, *p.old);
                });
                retired_.push_back(std::move(e->snap));
            }
            e->snap = std::move(snap);
            e->config = *p.cfg;
            service_by_id_[e->id] = e->snap.get();
            flags_by_id_[e->id] = e->config.expire_nodest_conn ? service_flag_expire_nodest : 0;
            set_timeouts(e->id, &e->config);
            services_dirty_ = true;
        } else if (p.retime) {
            e->config.timeouts = p.cfg->timeouts;
            set_timeouts(e->id, &e->config);
        }
        e->keys = std::move(p.keys);
        e->protos = std::move(p.protos);
        e->owner = p.owner;
        e->expanded = p.expanded;
        auto nat = nat_keys_of(e->config, e->protos);
        if (nat != e->nat_keys) nat_dirty_ = true;
        e->nat_keys = std::move(nat);
        if (keys_moved) services_dirty_ = true;
        if (keys_moved || laddrs_moved) local_dirty_ = true;
        hold(*e);
    }
    // Scheduler tables (a Maglev table is ~1-2 ms each) for every changed service, in parallel.
    if (to_prepare.size() > 1)
        tbb::parallel_for(size_t(0), to_prepare.size(),
                          [&](size_t i) { prepare_scheduler(*to_prepare[i], nworkers_); });
    else if (!to_prepare.empty())
        prepare_scheduler(*to_prepare[0], nworkers_);
    // lblc/lblcr keep their destination caches across edits, as IPVS does.
    for (auto [next, prev] : carry) carry_scheduler_state(*next, *prev);
    tables_built_ += to_prepare.size();
    last_rebuilt_ = to_prepare.size();
    total_rebuilt_ += to_prepare.size();

    // A timeout is no scheduler input: new values reach sessions through the snapshot's
    // per-service timeouts, every ServiceSnap stays.
    if (timeouts_changed) {
        for (uint32_t id = 0; id < timeouts_by_id_.size(); ++id) set_timeouts(id, nullptr);
        for (const ServiceEntry* e : order_) set_timeouts(e->id, &e->config);
    }
    if (full) {  // configuration order
        order_.clear();
        for (const auto& svc : cfg.services) {
            ServiceEntry* e = services_.at(key_of(svc.key)).get();
            e->pos = order_.size();
            order_.push_back(e);
        }
        services_dirty_ = true;
    }
    built_once_ = true;
    return assemble(generation);
}

std::unique_ptr<Snapshot> SnapshotBuilder::assemble(uint64_t generation) {
    auto snap = std::make_unique<Snapshot>();
    snap->generation = generation;
    snap->sequence = ++sequence_;
    snap->nworkers = nworkers_;
    snap->ports = ports_;
    snap->service_by_id = service_by_id_;
    snap->service_timeouts = timeouts_by_id_;
    snap->service_flags = flags_by_id_;
    snap->service_list.reserve(order_.size());
    for (const ServiceEntry* e : order_) snap->service_list.push_back(e->snap.get());
    for (unsigned s = 0; s < session_state_count; ++s) snap->timeout_ms[s] = ms(default_state_timeout_s[s]);
    snap->timeout_ms[unsigned(SessionState::tcp_established)] = ms(global_.tcp);
    snap->timeout_ms[unsigned(SessionState::tcp_fin_wait)] = ms(global_.tcp_fin);
    snap->timeout_ms[unsigned(SessionState::udp)] = ms(global_.udp);

    if (services_dirty_) {
        std::vector<std::pair<uint64_t, const ServiceSnap*>> items;
        items.reserve(order_.size());
        for (const ServiceEntry* e : order_)
            for (uint64_t k : e->keys) items.emplace_back(k, e->snap.get());
        services_map_ = FlatMap<const ServiceSnap*>(items);
    }
    if (nat_dirty_) {
        // Removed objects still holding connections first: live entries win on a clash.
        std::vector<std::pair<uint64_t, NatRealOwner>> items;
        for (const auto& [id, d] : draining_reals_)
            for (uint64_t key : d.keys) items.emplace_back(key, d.owner);
        for (const ServiceEntry* e : order_)
            for (uint64_t k : e->nat_keys) items.emplace_back(k, e->owner);
        nat_map_ = FlatMap<NatRealOwner>(items);
    }
    if (draining_dirty_) {
        std::vector<std::pair<uint64_t, NatRealOwner>> items;
        for (const auto& [id, d] : draining_services_)
            for (uint64_t key : d.keys) items.emplace_back(key, d.owner);
        draining_map_ = FlatMap<NatRealOwner>(items);
    }
    if (local_dirty_) {
        // ARP for a VIP or local address is answered on the ports whose connected networks
        // hold it; an address on no connected network is answered on every port.
        std::unordered_map<uint32_t, LocalAddressInfo> locals;
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
                // A twin's interface addresses are the kernel's: it answers their ARP.
                if (!ports_[p].twin) info.arp_ports |= 1u << p;
            }
        auto add_local = [&](uint32_t addr, uint8_t kind) {
            auto& info = locals[addr];
            if (!(info.kinds & (local_vip | local_snat))) info.arp_ports |= arp_ports_for(addr);
            info.kinds |= kind;
        };
        for (const ServiceEntry* e : order_) {
            for (uint64_t k : e->keys) add_local(uint32_t(k), local_vip);
            for (const auto& a : e->config.local_addresses) add_local(a.be, local_snat);
        }
        for (const auto& [id, d] : draining_services_)
            for (uint64_t key : d.keys) add_local(uint32_t(key), local_vip);
        laddrs_.for_each_address([&](uint32_t addr) { add_local(addr, local_snat); });
        std::vector<std::pair<uint64_t, LocalAddressInfo>> items(locals.begin(), locals.end());
        local_map_ = FlatMap<LocalAddressInfo>(items);
    }
    services_dirty_ = nat_dirty_ = draining_dirty_ = local_dirty_ = false;
    snap->services = services_map_;
    snap->nat_reals = nat_map_;
    snap->draining_services = draining_map_;
    snap->local_addresses = local_map_;
    return snap;
}

void SnapshotBuilder::collect(const std::function<bool(uint32_t)>& real_busy,
                              const std::function<bool(uint32_t)>& service_busy) {
    for (uint32_t id : real_id_pool_.collect(real_busy))
        if (draining_reals_.erase(id)) nat_dirty_ = true;
    for (uint32_t id : service_ids_.collect(service_busy))
        if (draining_services_.erase(id)) draining_dirty_ = local_dirty_ = true;
    std::unordered_set<uint32_t> referenced;
    for (const auto& [addr, n] : laddr_refs_) referenced.insert(addr);
    const size_t before = laddrs_.size();
    laddrs_.collect(referenced);
    if (laddrs_.size() != before) local_dirty_ = true;
    retired_.clear();  // no snapshot names them any more
}

}  // namespace dplb
