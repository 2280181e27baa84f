// The decision half of link-fault recovery (docs/hardening.md, "Link faults"): given what one
// port's link looks like over time, when it went down, when it came back, and when to restart
// the port, with exponential back-off between restarts. EAL-free: time is a parameter, the
// link state an input; LinkMonitor (link_monitor.hpp) reads links and carries restarts out.
//
// A memif client (DPDK 22.11) connects only when its port starts: once its peer is gone the
// link stays down for good unless the port is stopped and started again, and a start fails
// while the peer is not back. So: first restart `first_backoff_ms` after the link went down
// (a peer that comes back by itself needs none), then after each restart that did not bring
// the link up, twice the previous wait, at most `max_backoff_ms`.
//
// Threading: one instance per port, used by the main lcore only.
#pragma once

#include <cstdint>

#include "dataplane/session/time.hpp"

namespace dplb::runtime {

struct LinkBackoff {
    Tick first_ms = 100;
    Tick max_ms = 5000;
};

class LinkRecovery {
public:
    enum class Action : uint8_t {
        none,
        went_down,  // the link dropped: count it, log it
        came_up,    // the link is back (by itself or after restarts): count it, log it
        restart,    // stop and start the port now, then call restarted()
    };

    // `may_restart`: whether restarting the port can bring its link back (a memif client,
    // a tap whose kernel side is ours); otherwise the link is only watched. The link starts
    // up: one found down at the first read is an outage from then on.
    explicit LinkRecovery(bool may_restart, LinkBackoff backoff = {});

    // The link as read at `now`. Not called between Action::restart and restarted().
    Action observe(Tick now, bool up);
    // The restart asked for is done: `started` when the port started again (its link may
    // come up a moment later, as a memif handshake does).
    void restarted(Tick now, bool started);

    bool up() const { return up_; }
    bool may_restart() const { return may_restart_; }
    bool restart_pending() const { return pending_; }
    Tick down_since() const { return down_since_; }
    Tick next_attempt() const { return next_attempt_; }
    Tick backoff_ms() const { return backoff_; }           // the wait before next_attempt()
    unsigned outage_attempts() const { return outage_attempts_; }  // restarts in this outage
    Tick last_outage_ms() const { return last_outage_ms_; }

    // Since start.
    uint64_t down_events() const { return down_events_; }
    uint64_t recoveries() const { return recoveries_; }
    uint64_t attempts() const { return attempts_; }
    uint64_t failures() const { return failures_; }  // restarts whose start failed

private:
    LinkBackoff cfg_;
    bool may_restart_;
    bool up_ = true;
    bool pending_ = false;
    Tick down_since_ = 0;
    Tick next_attempt_ = 0;
    Tick backoff_ = 0;
    unsigned outage_attempts_ = 0;
    Tick last_outage_ms_ = 0;
    uint64_t down_events_ = 0;
    uint64_t recoveries_ = 0;
    uint64_t attempts_ = 0;
    uint64_t failures_ = 0;
};

}  // namespace dplb::runtime
