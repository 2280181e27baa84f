// One virtual server's health, keepalived 2.2's ipwrapper.c: its real servers' states
// (RealHealth), its quorum with hysteresis and its sorry server, turned into effects,
// notifications (notify_up/notify_down/quorum_up/quorum_down scripts and lvs_notify_fifo
// lines) and log lines, in keepalived's order: the real server's change, its notification,
// then the quorum's.
//
// The quorum (update_quorum_state): the alive weight is the sum of the weights of the real
// servers up; it is lost, from up, when that sum is 0 or below quorum - hysteresis, and
// gained, from down, when it reaches quorum + hysteresis. A new virtual server starts with
// its quorum down (keepalived computes it before any real server is in), so start() gains
// it at once, running quorum_up, when the real servers up weigh enough; when they do not,
// start() brings the sorry server in and runs quorum_down only if there is a sorry server
// (keepalived's "Starting with quorum down"), else nothing is run.
//
// Real servers are notified on their transitions only: nothing at start for those up
// (keepalived without rs_init_notifies), and for an alpha real server its first failed
// check notifies its down state (once per checker, as keepalived).
//
// Pure: no I/O, no clock; output goes into a HealthOutput.
//
// Threading: a value, used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "control/health/checker_schedule.hpp"
#include "control/health/health_effect.hpp"
#include "control/health/real_health.hpp"
#include "control/keepalived/keepalived_config.hpp"

namespace dplb::health {

// What keepalived's do_rs_notifies/do_vs_notifies would do for one event.
struct Notice {
    std::optional<std::string> script;  // the command as configured, when one is
    std::string fifo_line;              // "RS [..]:tcp:80 [..]:tcp:80 UP", without '\n'
};

struct HealthOutput {
    std::vector<RealEffect> reals;
    std::vector<SorryEffect> sorry;
    std::vector<Notice> notices;
    std::vector<log::Event> log;  // keepalived's log lines, as structured events
};

class ServiceHealth {
public:
    // The real servers start as keepalived starts them: up, or down under alpha when they
    // have checkers. Nothing is output before start().
    explicit ServiceHealth(keepalived::VirtualServerHealth config);

    const keepalived::VirtualServerHealth& config() const { return config_; }
    const config::ServiceKey& key() const { return config_.key; }
    std::size_t size() const { return reals_.size(); }
    const RealHealth& real(std::size_t i) const { return reals_[i]; }
    bool quorum_up() const { return quorum_up_; }
    bool sorry_active() const { return sorry_active_; }
    uint64_t alive_weight() const;

    // Reload, before start(): real server i is the same one with the same checkers and keeps
    // its health (under the file's weight and inhibit_on_failure)...
    void keep_real(std::size_t i, const RealHealth& old);
    // ... or it starts afresh, but what was given out for it stays the base of its effects.
    void inherit_published(std::size_t i, const RealHealth& old);
    // ... and the virtual server existed: its quorum and sorry server states carry over.
    void keep_quorum(const ServiceHealth& old);

    // keepalived's init_service_vs: effects for the real servers that differ from what was
    // given out (alpha ones down at first), and the quorum at start.
    void start(HealthOutput&);

    void checker_event(std::size_t real, CheckerEvent, HealthOutput&);
    // MISC_CHECK misc_dynamic after a success: its weight (nullopt: the configured one).
    void set_dynamic_weight(std::size_t real, std::optional<uint32_t>, HealthOutput&);
    void set_passive_down(std::size_t real, bool down, HealthOutput&);

    // keepalived's clear_services at shutdown: with omega, notify_down for every real server
    // still in the table alive, then quorum_down (whatever the quorum was); without omega
    // nothing. No effects.
    void stop(HealthOutput&);

    // The effects for every state that differs from the configuration as written (real
    // servers not up or at a dynamic weight, the sorry server in).
    void replay(HealthOutput&) const;

private:
    void settle(std::size_t real, bool was_up, HealthOutput&);
    void update_quorum(bool init, HealthOutput&);
    void notify_real(std::size_t real, HealthOutput&) const;
    void notify_quorum(HealthOutput&) const;

    keepalived::VirtualServerHealth config_;
    std::vector<RealHealth> reals_;
    bool quorum_up_ = false;  // keepalived's set_quorum_states before any real server is in
    bool sorry_active_ = false;
};

}  // namespace dplb::health
