#include "dataplane/runtime/neighbor_manager.hpp"

#include <rte_ethdev.h>

#include <rte_mempool.h>

#include <algorithm>
#include <cstring>

#include "common/log.hpp"
#include "dataplane/forward/local_reply.hpp"
#include "dataplane/runtime/idle.hpp"
#include "dataplane/runtime/log_fields.hpp"
#include "dataplane/session/time.hpp"

namespace dplb::runtime {

namespace {
constexpr Tick request_interval_ms = 1000;
constexpr unsigned max_requests = 3;
constexpr size_t max_pending_per_neighbor = 16;
constexpr Tick scan_interval_ms = 100;
constexpr uint16_t min_frame = 60;  // Ethernet minimum without FCS
}  // namespace

NeighborManager::NeighborManager(Runtime& rt)
    : rt_(rt), max_held_(std::max<size_t>(256, rt.pool ? rt.pool->size / 8 : 256)) {
    for (const auto& n : rt.config.neighbors) {
        Entry& e = entries_[l3::neighbor_key(n.port, n.address.be)];
        e.mac = n.mac;
        e.resolved = e.permanent = true;
    }
    publish();
}

NeighborManager::~NeighborManager() {
    for (auto& [k, e] : entries_) drop_pending(e);
    reclaim(true);  // the published snapshot stays: workers may still read it until they stop
}

void NeighborManager::transmit(uint16_t port, rte_mbuf* m) {
    // Worker 0 transmits for the main lcore (see Runtime::from_main).
    rt_.meta.of(m).port = port;
    uint32_t len = m->pkt_len;  // worker 0 may send and free it as soon as it is enqueued
    if (rte_ring_sp_enqueue(rt_.from_main[0], m) == 0) {
        rt_.main_counters.tx_packets.add();
        rt_.main_counters.tx_bytes.add(len);
        wake_worker(rt_, 0);
    } else {
        rt_.main_counters.drop(DropReason::tx_full);
        rte_pktmbuf_free(m);
    }
}

void NeighborManager::send_arp(uint16_t port, uint32_t target, const pkt::Mac* unicast_to, uint32_t sender) {
    if (!sender) return;  // a port without addresses cannot ask
    rte_mbuf* m = rte_pktmbuf_alloc(rt_.pool);
    if (!m) return;
    auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
    std::memset(frame, 0, min_frame);
    fwd::build_arp_request(frame, rt_.ports[port].mac, sender, target, unicast_to ? *unicast_to : pkt::broadcast_mac);
    m->data_len = m->pkt_len = min_frame;
    transmit(port, m);
}

void NeighborManager::announce(uint16_t port, uint32_t addr) { send_arp(port, addr, nullptr, addr); }

void NeighborManager::drop_pending(Entry& e) {
    for (rte_mbuf* m : e.pending) {
        rt_.main_counters.drop(DropReason::neighbor_unresolved);
        rte_pktmbuf_free(m);
    }
    held_ -= e.pending.size();
    e.pending.clear();
}

void NeighborManager::learn(uint16_t port, uint32_t addr, const pkt::Mac& mac, Tick now, bool create) {
    uint64_t key = l3::neighbor_key(port, addr);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        // Otherwise only what we asked for, or already know (like Linux with arp_accept=0).
        if (!create || entries_.size() >= rt_.config.neighbor_max_entries || !rt_.routes->source_for(port, addr))
            return;
        bool on_link = false;
        for (const auto& a : rt_.config.ports[port].addresses) on_link |= a.contains(Ip4{addr});
        if (!on_link) return;
        it = entries_.emplace(key, Entry{}).first;
    }
    Entry& e = it->second;
    if (e.permanent) return;
    if (!e.resolved || !(e.mac == mac)) {
        dirty_ = true;
        // A neighbour answering with a new MAC (a real server or gateway failed over) is
        // worth a line; first resolutions only at debug. A flapping peer could multiply
        // both: rate-limited.
        log::Logger{}.limited(e.resolved ? log::Level::notice : log::Level::debug,
                              e.resolved ? "neighbor_mac_changed" : "neighbor_resolved",
                              {{"port", rt_.ports[port].name}, {"address", Ip4{addr}.str()}, {"mac", mac_text(mac)}});
    }
    e.mac = mac;
    e.resolved = true;
    e.confirmed = now;
    e.requests = 0;
    for (rte_mbuf* m : e.pending) {
        auto* eth = rte_pktmbuf_mtod(m, pkt::EthHdr*);
        eth->dst = mac;
        eth->src = rt_.ports[port].mac;
        transmit(port, m);
    }
    held_ -= e.pending.size();
    e.pending.clear();
}

void NeighborManager::on_packet(rte_mbuf* m, Tick now) {
    const PendingMeta meta = rt_.meta.of(m);
    if (meta.port >= rt_.ports.size()) {
        rte_pktmbuf_free(m);
        return;
    }
    if (meta.nexthop == 0) {  // ARP reply or announcement, validated by the worker
        const auto* arp = rte_pktmbuf_mtod_offset(m, const pkt::ArpHdr*, sizeof(pkt::EthHdr));
        learn(meta.port, arp->spa, arp->sha, now, meta.create);
        rte_pktmbuf_free(m);
        return;
    }
    uint64_t key = l3::neighbor_key(meta.port, meta.nexthop);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        if (entries_.size() >= rt_.config.neighbor_max_entries) {
            rt_.main_counters.drop(DropReason::neighbor_unresolved);
            rte_pktmbuf_free(m);
            return;
        }
        it = entries_.emplace(key, Entry{}).first;
    }
    Entry& e = it->second;
    if (e.resolved) {  // resolved after the worker looked: send it now
        auto* eth = rte_pktmbuf_mtod(m, pkt::EthHdr*);
        eth->dst = e.mac;
        eth->src = rt_.ports[meta.port].mac;
        transmit(meta.port, m);
        return;
    }
    if (e.pending.size() >= max_pending_per_neighbor || held_ >= max_held_) {
        rt_.main_counters.drop(DropReason::neighbor_unresolved);
        rte_pktmbuf_free(m);
    } else {
        e.pending.push_back(m);
        ++held_;
    }
    if (e.requests == 0) {
        send_arp(meta.port, meta.nexthop, nullptr, rt_.routes->source_for(meta.port, meta.nexthop));
        e.requests = 1;
        e.last_request = now;
    }
}

void NeighborManager::resolve_ahead(uint32_t dst, Tick now) {
    const l3::Nexthop* nh = rt_.routes->lookup(dst);
    if (!nh) return;
    const uint32_t hop = nh->gateway ? nh->gateway : dst;
    const uint64_t key = l3::neighbor_key(nh->port, hop);
    if (entries_.count(key) || entries_.size() >= rt_.config.neighbor_max_entries) return;
    const uint32_t source = rt_.routes->source_for(nh->port, hop);
    if (!source) return;
    Entry& e = entries_.emplace(key, Entry{}).first->second;
    send_arp(nh->port, hop, nullptr, source);
    e.requests = 1;
    e.last_request = now;
}

void NeighborManager::tick(Tick now) {
    if (tick_reached(now, last_scan_ + scan_interval_ms)) {
        last_scan_ = now;
        const Tick reachable_ms = rt_.config.neighbor_reachable_s * 1000;
        for (auto it = entries_.begin(); it != entries_.end();) {
            Entry& e = it->second;
            if (e.permanent) {
                ++it;
                continue;
            }
            uint16_t port = uint16_t(it->first >> 32);
            uint32_t addr = uint32_t(it->first);
            bool due = e.requests > 0 ? tick_reached(now, e.last_request + request_interval_ms)
                                      : e.resolved && tick_reached(now, e.confirmed + reachable_ms);
            if (!due) {
                ++it;
                continue;
            }
            if (e.requests >= max_requests) {  // no answer: forget it
                log::Logger{}.limited(log::Level::warning, "neighbor_unresolved",
                                      {{"port", rt_.ports[port].name},
                                       {"address", Ip4{addr}.str()},
                                       {"requests", e.requests},
                                       {"was_resolved", e.resolved},
                                       {"dropped_packets", e.pending.size()}});
                drop_pending(e);
                dirty_ |= e.resolved;
                it = entries_.erase(it);
                continue;
            }
            // Resolved entries are probed by unicast, as Linux does, and stay usable meanwhile.
            send_arp(port, addr, e.resolved ? &e.mac : nullptr, rt_.routes->source_for(port, addr));
            ++e.requests;
            e.last_request = now;
            ++it;
        }
    }
    if (dirty_) publish();
    reclaim(false);
}

void NeighborManager::publish() {
    std::vector<std::pair<uint64_t, pkt::Mac>> items;
    items.reserve(entries_.size());
    for (const auto& [k, e] : entries_)
        if (e.resolved) items.emplace_back(k, e.mac);
    auto* snap = new l3::NeighborSnapshot{FlatMap<pkt::Mac>(items)};
    const l3::NeighborSnapshot* old = rt_.neighbors.exchange(snap);
    if (old) retired_.emplace_back(rt_.rcu->start(), old);
    dirty_ = false;
}

void NeighborManager::reclaim(bool wait_all) {
    while (!retired_.empty()) {
        auto [token, snap] = retired_.front();
        if (!wait_all && !rt_.rcu->done(token)) break;  // tokens are increasing: the rest are newer
        if (wait_all) rt_.rcu->synchronize();
        delete snap;
        retired_.erase(retired_.begin());
    }
}

}  // namespace dplb::runtime
