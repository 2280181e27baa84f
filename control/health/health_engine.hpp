// dplb-control's health checking with keepalived's semantics (check_daemon + ipwrapper):
// every checker of every real server runs on its own schedule (warmup, delay_loop, retry,
// delay_before_retry), a real server is up while all its checkers are up, and each virtual
// server turns its real servers' states into effects (removed or inhibited, alpha, quorum
// with hysteresis, sorry server), notify scripts and the lvs_notify_fifo stream.
//
// The engine owns an epoll set of its probes' descriptors; the event loop watches
// epoll_fd() for readability, calls on_ready() when it is, and run_due() whenever
// next_deadline() passes. Effects accumulate until take_effects().
//
// keepalived's semantics, as found in its 2.2 sources, are described where they are kept:
// checker_schedule.hpp (timing, retry), real_health.hpp (a real server from its checkers),
// service_health.hpp (quorum, sorry server, notifications), notify.hpp (scripts, FIFO).
// Not kept: ha_suspend (dplb does not track VIPs), per-checker/real alpha (the parser has
// none), rs_init_notifies, smtp_alert, SNMP.
//
// Threading: one thread (dplb-control's event loop) calls everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/health/checker_schedule.hpp"
#include "control/health/health_effect.hpp"
#include "control/health/probe.hpp"
#include "control/keepalived/keepalived_config.hpp"

namespace dplb::health {

// The state of one checker, for `dplbadm --health` and the JSON API.
struct CheckerStatus {
    keepalived::CheckerType type = keepalived::CheckerType::tcp;
    ProbeTarget target;
    bool up = true;
    uint32_t failures_in_a_row = 0;  // failed attempts since the last success
    std::optional<bool> last_result;  // nullopt: never ran
    std::string last_failure;         // reason of the last failed attempt ("" if none)
    Clock::time_point last_change{};  // when `up` last changed (engine start if never)
    Clock::time_point next_run{};  // while an attempt runs: when it started
    std::optional<Clock::duration> last_duration;  // of the last attempt that ended (nullopt: none yet)
};

struct RealStatus {
    config::ServiceKey service;
    Ip4 address;
    uint16_t port = 0;
    RealState state = RealState::up;
    std::optional<uint32_t> weight;  // dynamic weight, when a MISC_CHECK set one
    bool passive_down = false;       // taken out by the dataplane's passive check
    uint64_t transitions = 0;        // up<->down flips since first checked (RealHealth::transitions)
    std::vector<CheckerStatus> checkers;
};

struct ServiceStatus {
    config::ServiceKey service;
    bool quorum_up = true;
    bool sorry_active = false;
    uint64_t alive_weight = 0;  // sum of the weights of the real servers up
    std::vector<RealStatus> reals;
};

struct EngineOptions {
    std::function<Clock::time_point()> now = [] { return Clock::now(); };
    // Makes one attempt's probe. Required (the constructor throws std::invalid_argument
    // without it): dplb-control passes health::make_probe (control/health/probes/), tests
    // scripted probes. The engine itself does not link the probes.
    std::function<std::unique_ptr<Probe>(const keepalived::CheckerSpec&, const ProbeTarget&)> make_probe;
    // One attempt's deadline, seconds after it starts, given the checker's delay_loop.
    // Required as make_probe: dplb-control passes health::attempt_timeout.
    std::function<double(const keepalived::CheckerSpec&, double delay_loop)> attempt_timeout;
    // Runs a notify/quorum script without waiting for it; tests record them. Empty: the
    // engine starts `/bin/sh -c COMMAND` itself and reaps it from run_due().
    std::function<void(const std::string& command)> run_script;
    // The FIFOs that get keepalived's lines ("RS [1.2.3.4]:tcp:80 [10.0.0.1]:tcp:80 UP",
    // "VS [10.0.0.1]:tcp:80 DOWN"): global_defs' lvs_notify_fifo and notify_fifo
    // (keepalived writes each line to both). See notify.hpp for how they are written.
    std::vector<std::string> notify_fifos;
    uint64_t seed = 0;  // warmup randomness; 0 = from std::random_device
};

class HealthEngine {
public:
    HealthEngine(EngineOptions options, std::function<void(std::string_view)> log);
    ~HealthEngine();
    HealthEngine(const HealthEngine&) = delete;
    HealthEngine& operator=(const HealthEngine&) = delete;

    // The checked set. A real server (service, address, port) whose checkers are unchanged
    // (CheckerSpec ==) keeps its state, schedule and running attempt across a reconfigure
    // (SIGHUP); new ones, and those whose checkers changed, start as keepalived starts them
    // (up, or down with alpha; first attempt 1 s + warmup later). Real servers and services
    // no longer there vanish without effects or notifications. The effects relative to
    // what was given out before (new real servers down with alpha, ...) come out of
    // take_*_effects(); the quorum of each service is settled as keepalived's
    // init_service_vs does (see service_health.hpp: quorum_up runs for a new service that
    // has it).
    void configure(const std::vector<keepalived::VirtualServerHealth>& services);

    // A reload changed global_defs' FIFOs (a FIFO kept stays open).
    void set_notify_fifos(std::vector<std::string> paths);

    int epoll_fd() const;
    // Drives the probes whose descriptors are ready (never blocks).
    void on_ready();
    // Starts the attempts that are due, times out the late ones, retries, reaps scripts.
    void run_due();
    // When run_due() has work; while scripts the engine started are running, at most
    // 100 ms ahead so that they are reaped. May be early (then run_due() does nothing).
    std::optional<Clock::time_point> next_deadline() const;

    // The dataplane saw this real server's new connections fail (SYN timeouts, resets
    // before ESTABLISHED): it is taken out until `down_for` has passed, then trusted again.
    void report_passive_failure(const config::ServiceKey&, Ip4 address, uint16_t port,
                                std::chrono::milliseconds down_for);

    // Effects since the last call, in the order they happened (a later effect on the same
    // real server supersedes an earlier one).
    std::vector<RealEffect> take_real_effects();
    std::vector<SorryEffect> take_sorry_effects();
    // Every effect the current states imply, for a configuration that lost them (a
    // restarted dataplane is re-pushed from the controller's configuration, which has them;
    // a reload that replaced the services does not): each real server down or at a dynamic
    // weight, each sorry server in; those as written in the file (up, configured weight,
    // sorry server out) give none. They come out of take_*_effects().
    void replay_all_effects();

    std::vector<ServiceStatus> status() const;

    // keepalived's shutdown: stops every attempt, and for the virtual servers with omega
    // notifies (scripts and FIFO) every real server alive as down, then the quorum as down;
    // waits up to 1 s for the scripts it started. Afterwards the engine only reaps scripts.
    void shutdown();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dplb::health
