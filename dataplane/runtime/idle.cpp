#include "dataplane/runtime/idle.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace dplb::runtime {

namespace {

// Sleeping starts after this many empty polls (a few microseconds of spinning): long enough
// that a busy port never sleeps between bursts, short enough that an idle one costs nothing.
constexpr unsigned empty_polls_before_sleep = 256;
constexpr unsigned first_sleep_us = 50;
constexpr unsigned max_sleep_us = 1000;
// Upper bound on a blocking wait, so session expiry and shutdown are noticed.
constexpr int max_block_ms = 100;
// In interrupt mode, keep polling this long after the last packet or wake-up before blocking
// again. net_tap's rx_burst returns nothing until its SIGIO handler has run, which can be
// after epoll already woke us; blocking at once would miss that (edge-triggered) event.
constexpr uint64_t interrupt_linger_us = 1000;

void drain_eventfd(int fd, void*) {
    uint64_t v;
    (void)!::read(fd, &v, sizeof v);
}

}  // namespace

IdleGovernor::IdleGovernor(Runtime& rt, unsigned worker, PortGate& gate)
    : rt_(rt), worker_(worker), gate_(gate), linger_cycles_(rte_get_tsc_hz() / 1000000 * interrupt_linger_us) {
    if (rt.config.idle == IdleMode::busy || rt.config.idle == IdleMode::sleep) return;
    bool all = !rt.ports.empty();
    for (const auto& p : rt.ports) all &= p.rx_interrupts;
    if (!all) return;
    for (const auto& p : rt.ports)
        if (rte_eth_dev_rx_intr_ctl_q(p.port_id, uint16_t(worker), RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD,
                                      nullptr) != 0)
            return;
    int efd = rt.wake[worker].eventfd;
    wake_event_.epdata.event = EPOLLIN;  // rte_epoll_ctl passes this to epoll as the event mask
    wake_event_.epdata.cb_fun = drain_eventfd;
    if (efd < 0 || rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_ADD, efd, &wake_event_) != 0) return;
    interrupts_ = true;
    rt.wake[worker].uses_interrupts.store(true, std::memory_order_release);
}

IdleGovernor::~IdleGovernor() {
    if (!interrupts_) return;
    for (const auto& p : rt_.ports)
        rte_eth_dev_rx_intr_ctl_q(p.port_id, uint16_t(worker_), RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL, nullptr);
}

bool IdleGovernor::others_have_packets() const {
    for (unsigned s = 0; s < rt_.workers; ++s)
        if (s != worker_ && rte_ring_count(rt_.redirect[s][worker_]) != 0) return true;
    return rte_ring_count(rt_.from_main[worker_]) != 0;
}

void IdleGovernor::after_iteration(unsigned work) {
    if (work) {
        empty_iterations_ = 0;
        sleep_us_ = 0;
        last_work_tsc_ = rte_get_tsc_cycles();
        return;
    }
    if (rt_.config.idle == IdleMode::busy || ++empty_iterations_ < empty_polls_before_sleep) return;
    if (interrupts_ && rte_get_tsc_cycles() - last_work_tsc_ < linger_cycles_) return;
    // RX interrupts are enabled and disabled while online, on open ports only: the main lcore
    // stops a port only after a grace period that proves no worker touches it (port_link.hpp).
    if (interrupts_) set_interrupts(true);
    rt_.rcu->offline(worker_);
    wait();
    rt_.rcu->online(worker_);
    if (interrupts_) {
        gate_.refresh([this](uint16_t p) { rearm(p); });  // a port may have been paused meanwhile
        set_interrupts(false);
    }
}

void IdleGovernor::set_interrupts(bool on) {
    for (uint16_t p = 0; p < rt_.ports.size(); ++p) {
        if (!gate_.open(p)) continue;
        if (on)
            rte_eth_dev_rx_intr_enable(rt_.ports[p].port_id, uint16_t(worker_));
        else
            rte_eth_dev_rx_intr_disable(rt_.ports[p].port_id, uint16_t(worker_));
    }
}

void IdleGovernor::rearm(uint16_t port) {
    if (!interrupts_) return;
    const uint16_t id = rt_.ports[port].port_id;
    // The stop may have dropped the registration (net_tap) or not: remove it, then add it.
    rte_eth_dev_rx_intr_ctl_q(id, uint16_t(worker_), RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL, nullptr);
    if (rte_eth_dev_rx_intr_ctl_q(id, uint16_t(worker_), RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD, nullptr) == 0)
        return;
    interrupts_ = false;  // sleeping with back-off needs no registration
    rt_.wake[worker_].uses_interrupts.store(false, std::memory_order_release);
}

void IdleGovernor::wait() {
    WorkerWake& w = rt_.wake[worker_];
    w.sleeping.store(true, std::memory_order_relaxed);
    // Dekker with wake_worker(): store `sleeping`, fence, read the rings; the producer
    // enqueues, fences, reads `sleeping`. At least one of the two sees the other.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!others_have_packets() && !rt_.stop.load(std::memory_order_relaxed)) {
        rt_.forwarders[worker_].load(std::memory_order_relaxed)->counters().idle_sleeps.add();
        if (interrupts_) {
            rte_epoll_event events[8];
            rte_epoll_wait(RTE_EPOLL_PER_THREAD, events, 8, max_block_ms);
        } else {
            sleep_us_ = sleep_us_ ? std::min(sleep_us_ * 2, max_sleep_us) : first_sleep_us;
            timespec ts{0, long(sleep_us_) * 1000};
            nanosleep(&ts, nullptr);
        }
    }
    w.sleeping.store(false, std::memory_order_relaxed);
    empty_iterations_ = 0;
    last_work_tsc_ = rte_get_tsc_cycles();
}

void wake_worker(Runtime& rt, unsigned target) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    WorkerWake& w = rt.wake[target];
    // Only a worker blocked in epoll needs the eventfd; a sleeping one polls again within 1 ms.
    if (w.sleeping.load(std::memory_order_relaxed) && w.uses_interrupts.load(std::memory_order_relaxed)) {
        uint64_t one = 1;
        (void)!::write(w.eventfd, &one, sizeof one);
    }
}

}  // namespace dplb::runtime
