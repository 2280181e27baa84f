#include "dataplane/runtime/worker.hpp"

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "dataplane/flow/owner.hpp"
#include "dataplane/packet/parse.hpp"
#include "dataplane/runtime/idle.hpp"

namespace dplb::runtime {

namespace {
constexpr unsigned expiry_budget = 256;  // sessions expired per loop iteration at most
constexpr unsigned sync_install_budget = 256;  // synced sessions installed per loop iteration at most
constexpr unsigned sync_dump_slots = 4096;     // table slots a full-table dump walks per iteration
}

int worker_main(void* arg) {
    auto* launch = static_cast<WorkerLaunch*>(arg);
    Runtime& rt = *launch->rt;
    std::unique_ptr<Worker> w;
    try {
        w = std::make_unique<Worker>(rt, launch->index);
    } catch (const std::exception& e) {  // e.g. the session table does not fit in memory
        rt.start_errors[launch->index] = std::string("worker ") + std::to_string(launch->index) + ": " + e.what();
        rt.workers_ready.fetch_add(1);
        return -1;
    }
    w->run();
    return 0;
}

Worker::Worker(Runtime& rt, unsigned index)
    : rt_(rt), index_(index), fwd_(nullptr), tx_(rt.ports.size()), redirect_(rt.workers),
      gate_(rt.link_epoch, rt.links.get(), rt.ports.size()) {
    // Built here, on the worker's own lcore, so its memory is first touched on its NUMA node.
    fwd::ForwarderParams p;
    p.worker = index;
    p.nworkers = rt.workers;
    p.session_capacity = rt.config.sessions_per_worker;
    p.max_services = rt.config.max_services;
    p.max_reals = rt.config.max_real_servers;
    p.load = rt.load.get();
    p.rss = rt.rss.enabled() ? &rt.rss : nullptr;
    p.sync = rt.sync_taps[index].get();
    p.sloppy_tcp = rt.config.sloppy_tcp;
    rt.forwarder_storage[index] = std::make_unique<fwd::Forwarder>(p, *rt.laddrs, clock_.now());
    fwd_ = rt.forwarder_storage[index].get();
    for (uint16_t i = 0; i < rt.ports.size(); ++i) port_index_[rt.ports[i].port_id] = i;
    const Tick now = clock_.now();
    exception_budget_[0] = fwd::TokenBucket(rt.config.exception_control_pps,
                                            fwd::exception_burst(rt.config.exception_control_pps), now);
    exception_budget_[1] = fwd::TokenBucket(rt.config.exception_pps, fwd::exception_burst(rt.config.exception_pps), now);
}

void Worker::run() {
    IdleGovernor idle(rt_, index_, gate_);
    if (rt_.config.idle == IdleMode::interrupt && !idle.uses_interrupts()) {
        rt_.start_errors[index_] = "worker " + std::to_string(index_) +
                                   ": idle mode \"interrupt\" but the RX interrupts of its queues cannot be used";
        rt_.workers_ready.fetch_add(1);
        return;
    }
    rt_.forwarders[index_].store(fwd_, std::memory_order_release);
    rt_.rcu->register_reader(index_);
    rt_.rcu->online(index_);
    rt_.workers_ready.fetch_add(1);
    WorkerCounters& c = fwd_->counters();
    rte_mbuf* pkts[burst_size];

    while (!rt_.stop.load(std::memory_order_relaxed)) {
        const Snapshot* snap = rt_.snapshot.load();
        const l3::NeighborSnapshot* neighbors = rt_.neighbors.load();
        fwd_->set_owned(rt_.owned.load());  // null unless vip_ownership is "kernel"
        Tick now = clock_.now();
        unsigned work = 0;
        gate_.refresh([&](uint16_t p) { idle.rearm(p); });  // one load unless a port is restarting
        for (uint16_t pi = 0; pi < rt_.ports.size(); ++pi) {
            if (!gate_.open(pi)) continue;
            uint16_t n = rte_eth_rx_burst(rt_.ports[pi].port_id, uint16_t(index_), pkts, burst_size);
            work += n;
            for (uint16_t i = 0; i < n; ++i) {
                c.rx_packets.add();
                c.rx_bytes.add(pkts[i]->pkt_len);
            }
            handle_burst(pkts, n, pi, false, snap, neighbors, now);
        }
        work += poll_redirects(snap, neighbors, now);
        work += transmit_for_main();
        flush();
        work += fwd_->expire(now, expiry_budget, snap);
        work += install_synced(snap, now);
        work += rt_.sync_taps[index_]->serve_dump(
            [this](uint32_t& cursor, unsigned budget, auto&& f) { return fwd_->visit_sessions(cursor, budget, f); },
            now, sync_dump_slots, c);
        serve_connection_dump(now);
        rt_.rcu->quiescent(index_);
        idle.after_iteration(work);
    }
    flush();
    rt_.rcu->offline(index_);
    rt_.rcu->unregister_reader(index_);
}

void Worker::handle_burst(rte_mbuf** pkts, unsigned n, int port, bool from_other_worker, const Snapshot* snap,
                          const l3::NeighborSnapshot* neighbors, Tick now) {
    if (!snap) {
        for (unsigned i = 0; i < n; ++i) drop(pkts[i], DropReason::no_config);
        return;
    }
    now_ = now;
    pkt::ParsedIpv4 parsed[burst_size];
    rte_mbuf* mine[burst_size];
    uint16_t in_port[burst_size];
    uint32_t hash[burst_size];
    unsigned k = 0;
    for (unsigned i = 0; i < n; ++i) {
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
        rte_mbuf* m = pkts[i];
        const uint16_t pi = port == from_mbuf ? port_index_[m->port] : uint16_t(port);
        if (!parse_or_finish(m, pi, from_other_worker, *snap, neighbors, parsed[k])) continue;
        hash[k] = fwd::Forwarder::lookup_hash(parsed[k]);
        fwd_->prefetch_bucket(hash[k]);
        mine[k] = m;
        in_port[k++] = pi;
    }
    for (unsigned j = 0; j < k; ++j) fwd_->prefetch_session(hash[j]);
    for (unsigned j = 0; j < k; ++j) {
        rte_mbuf* m = mine[j];
        pkt::ParsedIpv4& p = parsed[j];
        uint8_t* const frame = p.frame;
        const uint32_t len = p.frame_len;
        fwd::Verdict v = fwd_->handle_ipv4(p, in_port[j], *snap, now, hash[j]);
        if (p.frame != frame || p.frame_len != len) {  // encapsulated or turned into an ICMP error
            m->data_off = uint16_t(p.frame - static_cast<uint8_t*>(m->buf_addr));
            m->data_len = uint16_t(p.frame_len);
            m->pkt_len = p.frame_len;
        }
        act(m, v, in_port[j], neighbors);
        if (v.extra) send_extra(neighbors);
    }
}

void Worker::send_extra(const l3::NeighborSnapshot* neighbors) {
    const fwd::ExtraPacket& x = fwd_->extra();
    rte_mbuf* m = rte_pktmbuf_alloc(rt_.pool);  // from the mempool: no system allocation
    if (!m) return fwd_->counters().drop(DropReason::reset_no_mbuf);
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), x.frame, x.len);
    m->data_len = m->pkt_len = x.len;
    act(m, fwd::Verdict::forward_to(x.route_to), 0, neighbors);
}

bool Worker::parse_or_finish(rte_mbuf* m, uint16_t port, bool from_other_worker, const Snapshot& snap,
                             const l3::NeighborSnapshot* neighbors, pkt::ParsedIpv4& p) {
    if (m->nb_segs != 1) {
        drop(m, DropReason::multi_segment);
        return false;
    }
    auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
    uint32_t len = m->data_len;
    pkt::FrameType type;
    if (DropReason r = pkt::classify_frame(frame, len, type); r != DropReason::none) {
        drop(m, r);
        return false;
    }
    if (type == pkt::FrameType::arp) {
        switch (fwd::classify_arp_exception(frame, len, snap, port)) {
        case fwd::ArpException::up:
            send_up(m, port, fwd::ExceptionClass::control);
            return false;
        case fwd::ArpException::copy_up:
            copy_up(m, port);
            break;
        case fwd::ArpException::none:
            break;
        }
        fwd::Verdict v = fwd_->handle_arp(frame, len, port, snap);
        if (v.action == fwd::Verdict::Action::reply) learn_requester(frame, port, neighbors);
        act(m, v, port, neighbors);
        return false;
    }
    if (type != pkt::FrameType::ipv4) {
        if (port < snap.ports.size() && snap.ports[port].twin && !from_other_worker)  // IPv6, LLDP...: the kernel's
            send_up(m, port, fwd::ExceptionClass::other);
        else
            drop(m, DropReason::eth_unsupported);
        return false;
    }
    bool verify = (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    if (DropReason r = pkt::parse_ipv4(frame, len, verify, p); r != DropReason::none) {
        drop(m, r);
        return false;
    }
    p.headroom = rte_pktmbuf_headroom(m);
    if (!from_other_worker) {
        if (fwd::ExceptionClass c = fwd::classify_ipv4_exception(p, snap, port); c != fwd::ExceptionClass::none)
            [[unlikely]] {
            send_up(m, port, c);
            return false;
        }
        unsigned owner = owner_of(p, snap);
        if (owner != any_worker && owner != index_) {
            if (redirect_[owner].add(m)) flush_redirects();
            return false;
        }
    }
    return true;
}

void Worker::act(rte_mbuf* m, const fwd::Verdict& v, uint16_t in_port, const l3::NeighborSnapshot* neighbors) {
    switch (v.action) {
    case fwd::Verdict::Action::drop:
        return drop(m, v.reason);
    case fwd::Verdict::Action::reply:
        return transmit(in_port, m);
    case fwd::Verdict::Action::to_main:
        return send_to_main(m, 0, in_port);
    case fwd::Verdict::Action::forward:
        break;
    }
    const l3::Nexthop* nh = rt_.routes->lookup(v.route_to);
    if (!nh) return drop(m, DropReason::no_route);
    uint32_t target = nh->gateway ? nh->gateway : v.route_to;
    const pkt::Mac* mac = neighbors ? neighbors->find(nh->port, target) : nullptr;
    if (!mac) return send_to_main(m, target, nh->port);  // main resolves it and sends it
    auto* eth = rte_pktmbuf_mtod(m, pkt::EthHdr*);
    eth->dst = *mac;
    eth->src = rt_.ports[nh->port].mac;
    transmit(nh->port, m);
}

// Like Linux, a request for one of our addresses teaches us the requester (we will likely
// answer it soon). The request became our reply in place, so its target fields now hold the
// requester; a copy goes to the main lcore only when that changes what we know.
void Worker::learn_requester(const uint8_t* reply_frame, uint16_t port, const l3::NeighborSnapshot* neighbors) {
    const auto* arp = pkt::at<pkt::ArpHdr>(reply_frame, sizeof(pkt::EthHdr));
    const pkt::Mac* known = neighbors ? neighbors->find(port, arp->tpa) : nullptr;
    if (known && *known == arp->tha) return;
    rte_mbuf* copy = rte_pktmbuf_alloc(rt_.pool);
    if (!copy) return;  // learning is an optimisation; resolution will ask anyway
    auto* out = pkt::at<pkt::ArpHdr>(rte_pktmbuf_mtod(copy, uint8_t*), sizeof(pkt::EthHdr));
    *out = *arp;
    out->sha = arp->tha;  // present it as the requester's own message
    out->spa = arp->tpa;
    copy->data_len = copy->pkt_len = sizeof(pkt::EthHdr) + sizeof(pkt::ArpHdr);
    send_to_main(copy, 0, port, true);
}

void Worker::drop(rte_mbuf* m, DropReason r) {
    fwd_->counters().drop(r);
    rte_pktmbuf_free(m);
}

void Worker::send_to_main(rte_mbuf* m, uint32_t nexthop, uint16_t port, bool create) {
    PendingMeta& meta = rt_.meta.of(m);
    meta.nexthop = nexthop;
    meta.port = port;
    meta.create = create;
    if (rte_ring_sp_enqueue(rt_.to_main[index_], m) != 0) return drop(m, DropReason::to_main_ring_full);
    fwd_->counters().to_main.add();
}

void Worker::send_up(rte_mbuf* m, uint16_t port, fwd::ExceptionClass cls) {
    const unsigned c = cls == fwd::ExceptionClass::control ? 0 : 1;
    if (!exception_budget_[c].take(now_))
        return drop(m, c == 0 ? DropReason::exception_control_rate_limited : DropReason::exception_rate_limited);
    rt_.meta.of(m).port = port;
    if (rte_ring_sp_enqueue(rt_.to_twin[index_][c], m) != 0)
        return drop(m, c == 0 ? DropReason::exception_control_ring_full : DropReason::exception_ring_full);
    WorkerCounters& k = fwd_->counters();
    (c == 0 ? k.exception_up_control : k.exception_up_other).add();
}

void Worker::copy_up(const rte_mbuf* m, uint16_t port) {
    rte_mbuf* copy = rte_pktmbuf_alloc(rt_.pool);  // from the mempool: no system allocation
    if (!copy) return fwd_->counters().drop(DropReason::exception_no_mbuf);
    std::memcpy(rte_pktmbuf_mtod(copy, uint8_t*), rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    copy->data_len = copy->pkt_len = m->data_len;
    send_up(copy, port, fwd::ExceptionClass::control);
}

void Worker::transmit(uint16_t port, rte_mbuf* m) {
    Batch& b = tx_[port];
    b.pkts[b.n++] = m;
    if (b.n == burst_size) flush_port(port);
}

void Worker::flush_port(uint16_t port) {
    Batch& b = tx_[port];
    if (!b.n) return;
    if (!gate_.open(port)) [[unlikely]] {  // being restarted after a link fault
        for (unsigned i = 0; i < b.n; ++i) drop(b.pkts[i], DropReason::port_paused);
        b.n = 0;
        return;
    }
    // Lengths first: once tx_burst has them, the PMD may have freed (and reused) the mbufs.
    uint64_t bytes = 0;
    for (unsigned i = 0; i < b.n; ++i) bytes += b.pkts[i]->pkt_len;
    uint16_t sent = rte_eth_tx_burst(rt_.ports[port].port_id, uint16_t(index_), b.pkts.data(), uint16_t(b.n));
    for (unsigned i = sent; i < b.n; ++i) {
        bytes -= b.pkts[i]->pkt_len;
        drop(b.pkts[i], DropReason::tx_full);
    }
    WorkerCounters& c = fwd_->counters();
    c.tx_packets.add(sent);
    c.tx_bytes.add(bytes);
    b.n = 0;
}

void Worker::flush_redirects() {
    for (unsigned t = 0; t < redirect_.size(); ++t) {
        unsigned ok = redirect_[t].flush(rt_.redirect[index_][t],
                                         [&](rte_mbuf* m) { drop(m, DropReason::redirect_ring_full); });
        fwd_->counters().redirected_out.add(ok);
        if (ok) wake_worker(rt_, t);
    }
}

void Worker::flush() {
    flush_redirects();
    for (uint16_t p = 0; p < tx_.size(); ++p) flush_port(p);
}

void Worker::serve_connection_dump(Tick now) {
    ConnectionDump& d = *rt_.dumps[index_];
    if (d.state.load(std::memory_order_acquire) != ConnectionDump::requested) return;
    constexpr unsigned chunk = 16384;  // table slots examined per loop iteration (~1 MB)
    bool more = fwd_->visit_sessions(d.cursor, chunk, [&](const Session& s) {
        if (d.sessions.size() < d.limit) d.sessions.push_back(s);
    });
    if (more && d.sessions.size() < d.limit) return;
    d.truncated = more;
    d.now = now;
    d.state.store(ConnectionDump::done, std::memory_order_release);
}

unsigned Worker::transmit_for_main() {
    rte_mbuf* pkts[burst_size];
    unsigned n = rte_ring_sc_dequeue_burst(rt_.from_main[index_], reinterpret_cast<void**>(pkts), burst_size, nullptr);
    for (unsigned i = 0; i < n; ++i) transmit(rt_.meta.of(pkts[i]).port, pkts[i]);
    return n;
}

unsigned Worker::poll_redirects(const Snapshot* snap, const l3::NeighborSnapshot* neighbors, Tick now) {
    unsigned total = 0;
    rte_mbuf* pkts[burst_size];
    for (unsigned s = 0; s < rt_.workers; ++s) {
        if (s == index_) continue;
        unsigned n = rte_ring_sc_dequeue_burst(rt_.redirect[s][index_], reinterpret_cast<void**>(pkts), burst_size,
                                               nullptr);
        fwd_->counters().redirected_in.add(n);
        handle_burst(pkts, n, from_mbuf, true, snap, neighbors, now);
        total += n;
    }
    return total;
}

// Session sync, backup side: the sessions the receiver queued for this worker, a bounded
// number per iteration (the receiver's rate limit bounds the rest).
unsigned Worker::install_synced(const Snapshot* snap, Tick now) {
    if (!snap) return 0;
    SpscRing<SyncInstall>& ring = *rt_.sync_installs[index_];
    SyncInstall in;
    unsigned n = 0;
    for (; n < sync_install_budget && ring.pop(in); ++n) fwd_->install_synced(in, *snap, now);
    return n;
}

}  // namespace dplb::runtime
