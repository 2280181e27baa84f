// The authoritative neighbour table, on the main lcore.
//
// Workers never write neighbour state: they read the published NeighborSnapshot, and hand
// the main lcore (through their to_main ring) ARP replies and announcements, and packets
// whose next hop is not resolved. The main lcore holds those packets in a small bounded
// queue per neighbour, sends ARP requests (at most one a second per neighbour, three tries),
// transmits the held packets when the answer comes, and drops and counts them when it does
// not. Resolved entries are re-probed with unicast ARP after `reachable` time and removed
// after three unanswered probes. Every change republishes the snapshot (RCU). Static entries
// from the configuration (`neighbors`) are permanent, as `ip neigh add ... nud permanent`.
//
// Threading: main lcore only.
#pragma once

#include <rte_mbuf.h>

#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dataplane/l3/neighbor_snapshot.hpp"
#include "dataplane/runtime/runtime.hpp"

namespace dplb::runtime {

class NeighborManager {
public:
    explicit NeighborManager(Runtime& rt);
    // Must run while the calling thread is not an online QSBR reader (it waits a grace period).
    ~NeighborManager();

    // A packet from a worker's to_main ring (ARP, or a packet waiting for resolution).
    void on_packet(rte_mbuf* m, Tick now);
    // Retries, timeouts, probes, publication and reclamation. Call every loop iteration.
    void tick(Tick now);
    // Sends a gratuitous ARP for `addr` out of port index `port`.
    void announce(uint16_t port, uint32_t addr);
    // Starts resolving the next hop toward `dst` (network order) unless it is known or being
    // resolved: an entry with no held packet and an ARP request, retried and expired as any
    // other. For the session sync backup, whose first packets after a takeover would
    // otherwise all wait for ARP at once (more than max_pending_per_neighbor are dropped).
    void resolve_ahead(uint32_t dst, Tick now);

private:
    struct Entry {
        pkt::Mac mac{};
        bool resolved = false;
        Tick confirmed = 0;     // last answer
        Tick last_request = 0;  // last request or probe sent
        unsigned requests = 0;  // unanswered requests/probes in a row
        bool permanent = false;  // from the configuration: never probed, expired or relearned
        std::deque<rte_mbuf*> pending;
    };

    // Updates an entry (creates it too when `create`: a request for one of our addresses).
    void learn(uint16_t port, uint32_t addr, const pkt::Mac& mac, Tick now, bool create);
    void send_arp(uint16_t port, uint32_t target, const pkt::Mac* unicast_to, uint32_t sender);
    void transmit(uint16_t port, rte_mbuf* m);
    void drop_pending(Entry& e);
    void publish();
    void reclaim(bool wait_all);

    Runtime& rt_;
    std::unordered_map<uint64_t, Entry> entries_;  // by neighbor_key(port, addr)
    size_t held_ = 0;      // packets waiting for resolution, over all entries
    size_t max_held_;      // a bound that keeps most of the mbuf pool for receiving
    bool dirty_ = false;
    Tick last_scan_ = 0;
    std::vector<std::pair<uint64_t, const l3::NeighborSnapshot*>> retired_;  // (RCU token, snapshot)
};

}  // namespace dplb::runtime
