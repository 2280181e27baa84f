// What a worker does when its queues are empty: keep polling (busy), sleep with exponential
// back-off (sleep), or block on RX interrupts plus an eventfd other workers use to hand it
// packets (interrupt). In every case the worker is offline for QSBR while it waits, so
// configuration changes never wait for a sleeping worker.
//
// Threading: one IdleGovernor per worker thread; WorkerWake is shared as Runtime documents.
#pragma once

#include <rte_epoll.h>

#include <cstdint>
#include <vector>

#include "dataplane/runtime/port_link.hpp"
#include "dataplane/runtime/runtime.hpp"

namespace dplb::runtime {

class IdleGovernor {
public:
    // Call on the worker's own lcore (the epoll instance is per thread). `gate`: the
    // worker's view of which ports it may touch (RX interrupts are armed on those only).
    IdleGovernor(Runtime& rt, unsigned worker, PortGate& gate);
    ~IdleGovernor();

    // After each loop iteration: `work` = packets handled in it. May block.
    void after_iteration(unsigned work);
    bool uses_interrupts() const { return interrupts_; }
    // Port index `port` was restarted (link faults): its queue's RX interrupt registration
    // went with the stop. Registers it again; if that fails, the worker sleeps instead.
    void rearm(uint16_t port);

private:
    bool others_have_packets() const;
    void wait();
    void set_interrupts(bool on);

    Runtime& rt_;
    unsigned worker_;
    PortGate& gate_;
    bool interrupts_ = false;
    unsigned empty_iterations_ = 0;
    unsigned sleep_us_ = 0;
    uint64_t linger_cycles_;
    uint64_t last_work_tsc_ = 0;
    rte_epoll_event wake_event_{};
};

// After enqueuing to one of `target`'s rings: wakes it if it is blocked. One fence per burst.
void wake_worker(Runtime& rt, unsigned target);

}  // namespace dplb::runtime
