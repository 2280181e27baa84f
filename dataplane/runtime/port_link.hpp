// What the main lcore and the workers share about ports' links (docs/hardening.md, "Link
// faults"), and the workers' side of the pause handshake that lets the main lcore stop and
// start a port under traffic.
//
// The handshake: the main lcore sets `paused` on the port and bumps Runtime::link_epoch, then
// waits for a QSBR grace period (Rcu::start/done, without blocking its loop). A worker loads
// link_epoch once per loop iteration and, when it changed, re-reads every port's `paused`
// (PortGate::refresh); from then on it neither polls nor transmits on a paused port (what it
// would have sent is dropped as port_paused). A worker reports its quiescent state only at the
// end of an iteration, so once the grace period is over no worker is inside rx_burst, tx_burst
// or an RX-interrupt call on that port, and none will be until `paused` is cleared: the main
// lcore may then stop and start it. It clears `paused`, bumps `restarts` and link_epoch; a
// worker seeing a port come back with a new `restarts` re-arms its RX interrupts on it (a
// restart drops them: net_tap unregisters its queues' fds on stop, memif makes new ones).
//
// Threading (per member):
//   paused, restarts      main lcore writes (before the link_epoch release store); workers
//                         read after their acquire load of link_epoch
//   lsc_event             the EAL interrupt thread (LSC callback) sets; main lcore clears
//   state, counters       main lcore writes (relaxed); control thread reads (status)
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace dplb::runtime {

// The link as last read; unknown when it cannot be read (a net_tap whose kernel side was
// moved to another network namespace: the PMD then reads "down" forever).
enum class LinkView : uint8_t { unknown, up, down, restarting };
inline const char* to_string(LinkView v) {
    switch (v) {
    case LinkView::unknown: return "unknown";
    case LinkView::up: return "up";
    case LinkView::down: return "down";
    case LinkView::restarting: return "restarting";
    }
    return "?";
}

struct PortLink {
    std::atomic<bool> paused{false};
    std::atomic<uint32_t> restarts{0};
    std::atomic<bool> lsc_event{false};
    std::atomic<LinkView> state{LinkView::unknown};
    std::atomic<uint64_t> down_events{0};
    std::atomic<uint64_t> recoveries{0};
    std::atomic<uint64_t> recovery_attempts{0};
    std::atomic<uint64_t> recovery_failures{0};
    std::atomic<uint64_t> last_outage_ms{0};
};

// A worker's view of which ports it may touch. Threading: one per worker, on its lcore.
class PortGate {
public:
    PortGate(const std::atomic<uint32_t>& epoch, const PortLink* links, size_t ports)
        : epoch_(epoch), links_(links), open_(ports, 1), restarts_(ports, 0) {}

    bool open(uint16_t port) const { return open_[port] != 0; }
    // Once per loop iteration, and after coming back online from a sleep. Calls
    // on_restarted(port) for each port that came back from a restart since the last call.
    template <class F>
    void refresh(F&& on_restarted) {
        const uint32_t e = epoch_.load(std::memory_order_acquire);
        if (e == seen_) return;
        seen_ = e;
        for (size_t p = 0; p < open_.size(); ++p) {
            const bool open = !links_[p].paused.load(std::memory_order_relaxed);
            const uint32_t r = links_[p].restarts.load(std::memory_order_relaxed);
            open_[p] = open;
            if (open && r != restarts_[p]) {
                restarts_[p] = r;
                on_restarted(uint16_t(p));
            }
        }
    }

private:
    const std::atomic<uint32_t>& epoch_;
    const PortLink* links_;
    uint32_t seen_ = 0;
    std::vector<uint8_t> open_;
    std::vector<uint32_t> restarts_;
};

}  // namespace dplb::runtime
