// A worker lcore's run-to-completion loop: for each port, rx_burst on its own queue; hand
// packets it does not own to their owner; run the rest through its Forwarder; route,
// resolve the next hop's MAC from the neighbour snapshot, and tx_burst on its own queue.
// Then packets handed over by other workers, packets the main lcore wants sent, session
// expiry (bounded), a QSBR quiescent report, and the idle policy.
//
// Threading: a Worker lives and runs on one lcore. Nothing in it is touched by other
// threads except what Runtime lists (its rings, its Forwarder's counters, its wake flag).
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <memory>
#include <vector>

#include "dataplane/forward/exception.hpp"
#include "dataplane/forward/forwarder.hpp"
#include "dataplane/runtime/clock.hpp"
#include "dataplane/runtime/handoff_batch.hpp"
#include "dataplane/runtime/port_link.hpp"
#include "dataplane/runtime/runtime.hpp"

namespace dplb::runtime {

inline constexpr unsigned burst_size = 32;

// Launched with rte_eal_remote_launch; `arg` is a WorkerLaunch*.
struct WorkerLaunch {
    Runtime* rt;
    unsigned index;
};
int worker_main(void* arg);

class Worker {
public:
    Worker(Runtime& rt, unsigned index);
    void run();

    // The packet path: handles a burst of received packets (from port index `port`, or each
    // from its own mbuf's port when `port` is from_mbuf) completely: owned or redirected,
    // forwarded, answered, dropped. Three passes, so that every packet's session-table lines
    // are being fetched while the others are parsed: parse (ARP answered, other owners'
    // packets handed over, malformed ones dropped) and prefetch each bucket; prefetch the
    // matching sessions; forward.
    static constexpr int from_mbuf = -1;
    void handle_burst(rte_mbuf** pkts, unsigned n, int port, bool from_other_worker, const Snapshot* snap,
                      const l3::NeighborSnapshot* neighbors, Tick now);
    void flush();  // pending transmissions and redirections
    fwd::Forwarder& forwarder() { return *fwd_; }

private:
    struct Batch {
        std::array<rte_mbuf*, burst_size> pkts;
        unsigned n = 0;
    };
    // Pass 1 of handle_burst for one packet: true when it is IPv4 for this worker to
    // forward (parsed into `p`); otherwise it has been dropped, answered or handed over.
    bool parse_or_finish(rte_mbuf* m, uint16_t port, bool from_other_worker, const Snapshot& snap,
                         const l3::NeighborSnapshot* neighbors, pkt::ParsedIpv4& p);
    void drop(rte_mbuf* m, DropReason r);
    void act(rte_mbuf* m, const fwd::Verdict& v, uint16_t in_port, const l3::NeighborSnapshot* neighbors);
    // Forwards the packet the forwarder built besides the one it was handed (Verdict::extra).
    void send_extra(const l3::NeighborSnapshot* neighbors);
    void send_to_main(rte_mbuf* m, uint32_t nexthop, uint16_t port, bool create = false);
    // Exception path: hands `m` (received on port index `port`) to the main lcore for the
    // port's kernel twin, within the class's budget; copy_up sends a copy and keeps `m`.
    void send_up(rte_mbuf* m, uint16_t port, fwd::ExceptionClass cls);
    void copy_up(const rte_mbuf* m, uint16_t port);
    void learn_requester(const uint8_t* reply_frame, uint16_t port, const l3::NeighborSnapshot* neighbors);
    void transmit(uint16_t port, rte_mbuf* m);
    void flush_port(uint16_t port);
    void flush_redirects();
    unsigned poll_redirects(const Snapshot* snap, const l3::NeighborSnapshot* neighbors, Tick now);
    unsigned transmit_for_main();  // packets the main lcore asked this worker to send
    void serve_connection_dump(Tick now);
    unsigned install_synced(const Snapshot* snap, Tick now);

    Runtime& rt_;
    unsigned index_;
    fwd::Forwarder* fwd_;  // owned by rt_.forwarder_storage, outlives this Worker
    Clock clock_;
    std::vector<Batch> tx_;          // by port index
    std::vector<HandoffBatch<rte_mbuf, burst_size>> redirect_;  // by target worker
    std::array<uint16_t, RTE_MAX_ETHPORTS> port_index_{};  // DPDK port id -> port index
    fwd::TokenBucket exception_budget_[2];  // by class: 0 control, 1 other
    PortGate gate_;                         // ports paused for a restart are not touched (port_link.hpp)
    Tick now_ = 0;                          // of the burst being handled
};

}  // namespace dplb::runtime
