#include "dataplane/runtime/link_monitor.hpp"

#include <net/if.h>
#include <rte_ethdev.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "dataplane/runtime/ports.hpp"

namespace dplb::runtime {

namespace {

// EAL interrupt thread: only a flag, the main lcore does the rest.
int on_lsc(uint16_t, rte_eth_event_type, void* arg, void*) {
    static_cast<std::atomic<bool>*>(arg)->store(true, std::memory_order_release);
    return 0;
}

// IFF_UP and IFF_RUNNING of a kernel interface of our network namespace; nullopt when there
// is none by that name here.
std::optional<bool> kernel_link(const std::string& iface) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    const int rc = ::ioctl(fd, SIOCGIFFLAGS, &ifr);
    ::close(fd);
    if (rc != 0) return std::nullopt;
    return (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

}  // namespace

// The first read is a poll period away: a memif port's handshake with its peer completes
// after its start, and reading it at once would count a link fault that was never one.
LinkMonitor::LinkMonitor(Runtime& rt, Tick now) : rt_(rt) {
    ports_.reserve(rt.ports.size());
    for (size_t i = 0; i < rt.ports.size(); ++i) {
        ports_.push_back(Port{LinkRecovery(rt.ports[i].link_restart), now + poll_ms});
        if (rt.ports[i].link_lsc)
            rte_eth_dev_callback_register(rt.ports[i].port_id, RTE_ETH_EVENT_INTR_LSC, on_lsc, &rt.links[i].lsc_event);
    }
}

LinkMonitor::~LinkMonitor() {
    for (size_t i = 0; i < rt_.ports.size(); ++i)
        if (rt_.ports[i].link_lsc)
            rte_eth_dev_callback_unregister(rt_.ports[i].port_id, RTE_ETH_EVENT_INTR_LSC, on_lsc,
                                            &rt_.links[i].lsc_event);
}

LinkView LinkMonitor::read(size_t index) const {
    const PortState& ps = rt_.ports[index];
    if (ps.link_detection == "kernel") {
        auto up = kernel_link(ps.link_iface);
        return !up ? LinkView::unknown : *up ? LinkView::up : LinkView::down;
    }
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(ps.port_id, &link) != 0) return LinkView::unknown;
    if (link.link_status == RTE_ETH_LINK_UP) return LinkView::up;
    // net_tap reads its kernel side by name in our namespace: moved to another one (as the
    // labs and a kernel twin's users do), it reads "down" whatever the link does.
    if (ps.driver == "net_tap" && (ps.link_iface.empty() || !kernel_link(ps.link_iface))) return LinkView::unknown;
    return LinkView::down;
}

void LinkMonitor::publish(size_t index, LinkView v) { rt_.links[index].state.store(v, std::memory_order_relaxed); }

unsigned LinkMonitor::poll(Tick now) {
    unsigned work = 0;
    for (size_t i = 0; i < ports_.size(); ++i) {
        Port& p = ports_[i];
        if (p.grace_pending) {
            if (rt_.rcu->done(p.grace_token)) {
                finish_restart(i, now);
                ++work;
            }
            continue;
        }
        const bool event = rt_.links[i].lsc_event.exchange(false, std::memory_order_acq_rel);
        if (!event && !tick_reached(now, p.next_read)) continue;
        const LinkView v = read(i);
        p.next_read = now + (v == LinkView::down ? down_poll_ms : poll_ms);
        publish(i, v);
        if (v == LinkView::unknown) {
            if (!p.unknown_logged)
                log_.info("port_link_unknown", {{"port", rt_.ports[i].name}, {"driver", rt_.ports[i].driver},
                                                {"iface", rt_.ports[i].link_iface}});
            p.unknown_logged = true;
            continue;
        }
        const LinkRecovery::Action a = p.fsm.observe(now, v == LinkView::up);
        if (a != LinkRecovery::Action::none) ++work;
        act(i, a);
    }
    return work;
}

void LinkMonitor::act(size_t index, LinkRecovery::Action a) {
    Port& p = ports_[index];
    PortLink& link = rt_.links[index];
    const PortState& ps = rt_.ports[index];
    switch (a) {
    case LinkRecovery::Action::none:
        return;
    case LinkRecovery::Action::went_down:
        link.down_events.store(p.fsm.down_events(), std::memory_order_relaxed);
        log_.limited(log::Level::warning, "port_link_down",
                     {{"port", ps.name}, {"driver", ps.driver}, {"action", p.fsm.may_restart() ? "restart" : "watch"}});
        return;
    case LinkRecovery::Action::came_up:
        link.recoveries.store(p.fsm.recoveries(), std::memory_order_relaxed);
        link.last_outage_ms.store(p.fsm.last_outage_ms(), std::memory_order_relaxed);
        log_.limited(log::Level::notice, "port_link_up",
                     {{"port", ps.name}, {"outage_ms", p.fsm.last_outage_ms()}, {"restarts", p.fsm.outage_attempts()}});
        return;
    case LinkRecovery::Action::restart:
        link.recovery_attempts.store(p.fsm.attempts(), std::memory_order_relaxed);
        begin_restart(index);
        return;
    }
}

// Workers keep off the port from their next iteration on; the restart itself waits for the
// grace period that proves it (port_link.hpp). A port whose last start failed is still paused.
void LinkMonitor::begin_restart(size_t index) {
    Port& p = ports_[index];
    PortLink& link = rt_.links[index];
    if (!link.paused.load(std::memory_order_relaxed)) {
        link.paused.store(true, std::memory_order_relaxed);
        rt_.link_epoch.fetch_add(1, std::memory_order_release);
    }
    p.grace_token = rt_.rcu->start();
    p.grace_pending = true;
    publish(index, LinkView::restarting);
}

// A port that did not start stays paused: a stopped port's burst functions are ethdev's
// placeholders, which log on every call.
void LinkMonitor::finish_restart(size_t index, Tick now) {
    Port& p = ports_[index];
    PortLink& link = rt_.links[index];
    const PortState& ps = rt_.ports[index];
    p.grace_pending = false;
    const PortRestart r = restart_port(rt_, index);
    p.fsm.restarted(now, r.started);
    link.recovery_failures.store(p.fsm.failures(), std::memory_order_relaxed);
    p.next_read = now + down_poll_ms;
    publish(index, LinkView::down);
    if (!r.started) {
        // Attempts 1, 2, 4, 8...: a peer gone for hours writes a few lines, not one per back-off.
        const unsigned n = p.fsm.outage_attempts();
        if ((n & (n - 1)) == 0)
            log_.limited(log::Level::warning, "port_restart_failed",
                         {{"port", ps.name}, {"attempt", n}, {"error", r.detail}, {"retry_in_ms", p.fsm.backoff_ms()}});
        return;
    }
    if (!r.detail.empty()) log_.warning("port_restart_incomplete", {{"port", ps.name}, {"error", r.detail}});
    link.paused.store(false, std::memory_order_relaxed);
    link.restarts.fetch_add(1, std::memory_order_relaxed);
    rt_.link_epoch.fetch_add(1, std::memory_order_release);
}

}  // namespace dplb::runtime
