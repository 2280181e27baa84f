#include "dataplane/runtime/main_loop.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "common/log.hpp"
#include "dataplane/runtime/clock.hpp"
#include "dataplane/runtime/idle.hpp"
#include "dataplane/runtime/link_monitor.hpp"
#include "dataplane/runtime/neighbor_manager.hpp"
#include "dataplane/runtime/sync_engine.hpp"

namespace dplb::runtime {

namespace {

constexpr unsigned max_sleep_us = 5000;
// With a kernel twin the main lcore carries the kernel's traffic both ways: it naps less.
constexpr unsigned max_sleep_twin_us = 1000;
// Gratuitous ARPs per new address, a second apart (keepalived sends a few too: one can be lost).
constexpr unsigned announcements = 3;
constexpr Tick announcement_interval_ms = 1000;

struct Announcement {
    uint32_t addr;
    uint32_t ports;
    unsigned sent;
    Tick next;
};

// The VIPs and local addresses of a snapshot, with the ports to announce them on; with VIP
// ownership following the kernel (`owned` set), only those this node holds: one that becomes
// owned is then new here and announced, as on a VRRP takeover.
std::set<std::pair<uint32_t, uint32_t>> announced_addresses(const Snapshot* snap, const OwnedAddresses* owned) {
    std::set<std::pair<uint32_t, uint32_t>> out;
    if (!snap) return out;
    snap->local_addresses.for_each([&](uint64_t addr, const LocalAddressInfo& info) {
        if (!(info.kinds & (local_vip | local_snat))) return;
        if (owned && !(info.kinds & local_interface) && !owned->owns(uint32_t(addr))) return;
        out.emplace(uint32_t(addr), info.arp_ports);
    });
    return out;
}

// Exception path up: what the workers handed over for the kernel twins, the control class
// of every worker before any other traffic. Sent on the twin of the port it arrived on.
unsigned exception_up(Runtime& rt) {
    unsigned work = 0;
    rte_mbuf* pkts[64];
    for (unsigned c = 0; c < 2; ++c)
        for (auto& rings : rt.to_twin) {
            unsigned n = rte_ring_sc_dequeue_burst(rings[c], reinterpret_cast<void**>(pkts), 64, nullptr);
            for (unsigned i = 0; i < n; ++i) {
                const uint16_t port = rt.meta.of(pkts[i]).port;
                if (port >= rt.ports.size() || !rt.ports[port].has_twin ||
                    rte_eth_tx_burst(rt.ports[port].twin_port_id, 0, &pkts[i], 1) != 1) {
                    rt.main_counters.drop(DropReason::twin_tx_failed);
                    rte_pktmbuf_free(pkts[i]);
                }
            }
            work += n;
        }
    return work;
}

// Exception path down: what the kernel sent on a twin leaves its port unchanged, through
// worker 0 like everything else the main lcore sends (Runtime::from_main).
unsigned exception_down(Runtime& rt) {
    unsigned work = 0;
    rte_mbuf* pkts[64];
    for (uint16_t p = 0; p < rt.ports.size(); ++p) {
        if (!rt.ports[p].has_twin) continue;
        const uint16_t n = rte_eth_rx_burst(rt.ports[p].twin_port_id, 0, pkts, 64);
        if (!n) continue;
        for (uint16_t i = 0; i < n; ++i) rt.meta.of(pkts[i]).port = p;
        const unsigned ok = rte_ring_sp_enqueue_burst(rt.from_main[0], reinterpret_cast<void**>(pkts), n, nullptr);
        for (unsigned i = ok; i < n; ++i) {
            rt.main_counters.drop(DropReason::twin_down_ring_full);
            rte_pktmbuf_free(pkts[i]);
        }
        rt.main_counters.exception_down.add(ok);
        if (ok) wake_worker(rt, 0);
        work += n;
    }
    return work;
}

bool stop_requested(int signal_fd) {
    signalfd_siginfo si;
    if (::read(signal_fd, &si, sizeof si) != ssize_t(sizeof si)) return false;
    log::Logger{}.notice("signal_received", {{"signal", log::signal_name(int(si.ssi_signo))}, {"action", "exit"}});
    return true;
}

}  // namespace

void run_main_loop(Runtime& rt, int signal_fd) {
    const unsigned me = rt.main_rcu_id();
    rt.rcu->register_reader(me);
    rt.rcu->online(me);
    Clock clock;
    const bool twins = !rt.to_twin.empty();
    {
        NeighborManager neighbors(rt);
        SyncEngine sync(rt);
        LinkMonitor links(rt, clock.now());
        uint64_t seen_sequence = 0;  // the dataplane's own count: generations come from outside
        std::set<std::pair<uint32_t, uint32_t>> announced;
        std::vector<Announcement> to_announce;
        unsigned sleep_us = 0;
        rte_mbuf* pkts[64];

        while (!rt.stop.load(std::memory_order_relaxed)) {
            Tick now = clock.now();
            const Snapshot* snap = rt.snapshot.load();
            // Ownership first: a VIP the kernel just gained is announced in this iteration.
            const bool owned_changed = rt.ownership && rt.ownership->update(snap);
            if (snap && (snap->sequence != seen_sequence || owned_changed)) {
                seen_sequence = snap->sequence;
                auto current = announced_addresses(snap, rt.ownership ? rt.ownership->current() : nullptr);
                for (const auto& [addr, ports] : current)
                    if (!announced.count({addr, ports})) to_announce.push_back({addr, ports, 0, now});
                announced = std::move(current);
            }
            unsigned work = sync.poll(now, snap);
            sync.take_resolve_hints([&](uint32_t addr) { neighbors.resolve_ahead(addr, now); });
            snap = nullptr;  // not used past the quiescent report below
            for (auto it = to_announce.begin(); it != to_announce.end();) {
                if (!tick_reached(now, it->next)) {
                    ++it;
                    continue;
                }
                for (uint16_t p = 0; p < rt.ports.size() && p < 32; ++p)
                    if (it->ports & (1u << p)) neighbors.announce(p, it->addr);
                it->next = now + announcement_interval_ms;
                it = ++it->sent == announcements ? to_announce.erase(it) : it + 1;
            }

            for (rte_ring* ring : rt.to_main) {
                unsigned n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), 64, nullptr);
                for (unsigned i = 0; i < n; ++i) neighbors.on_packet(pkts[i], now);
                work += n;
            }
            if (twins) {
                work += exception_up(rt);
                work += exception_down(rt);
            }
            neighbors.tick(now);
            work += links.poll(now);
            rt.rcu->quiescent(me);

            if (stop_requested(signal_fd)) rt.stop.store(true);
            if (!work) log::process().flush();  // rate-limited events' summaries, when due
            if (work) {
                sleep_us = 0;
                continue;
            }
            sleep_us = sleep_us ? std::min(sleep_us * 2, twins ? max_sleep_twin_us : max_sleep_us) : 50;
            rt.rcu->offline(me);
            timespec ts{0, long(sleep_us) * 1000};
            nanosleep(&ts, nullptr);
            rt.rcu->online(me);
        }
        rt.rcu->offline(me);
    }  // the neighbour manager frees its snapshots here, as a non-reader
    rt.rcu->unregister_reader(me);
}

}  // namespace dplb::runtime
