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
// Threading: one thread (dplb-control's event loop) calls everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/health/health_effect.hpp"
#include "control/health/probe.hpp"
#include "control/keepalived/keepalived_config.hpp"

namespace dplb::health {

using Clock = std::chrono::steady_clock;

// The state of one checker, for `dplbadm --health` and the JSON API.
struct CheckerStatus {
    keepalived::CheckerType type = keepalived::CheckerType::tcp;
    ProbeTarget target;
    bool up = true;
    uint32_t failures_in_a_row = 0;  // this round's failed attempts (retry counts them)
    std::optional<bool> last_result;  // nullopt: never ran
    std::string last_failure;         // reason of the last failed attempt ("" if none)
    Clock::time_point last_change{};  // when `up` last changed (engine start if never)
    Clock::time_point next_run{};
};

struct RealStatus {
    config::ServiceKey service;
    Ip4 address;
    uint16_t port = 0;
    RealState state = RealState::up;
    std::optional<uint32_t> weight;  // dynamic weight, when a MISC_CHECK set one
    bool passive_down = false;       // taken out by the dataplane's passive check
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
    // Makes one attempt's probe; tests give scripted ones.
    std::function<std::unique_ptr<Probe>(const keepalived::CheckerSpec&, const ProbeTarget&)> make_probe =
        [](const keepalived::CheckerSpec& s, const ProbeTarget& t) { return health::make_probe(s, t); };
    // Runs a notify/quorum script (`sh -c`), without waiting for it; tests record them.
    std::function<void(const std::string& command)> run_script;  // default: spawn and reap
    std::optional<std::string> notify_fifo;  // lvs_notify_fifo path
    uint64_t seed = 0;  // warmup randomness; 0 = from the clock
};

class HealthEngine {
public:
    HealthEngine(EngineOptions options, std::function<void(std::string_view)> log);
    ~HealthEngine();
    HealthEngine(const HealthEngine&) = delete;
    HealthEngine& operator=(const HealthEngine&) = delete;

    // The checked set. A real server (service, address, port) whose checkers are unchanged
    // keeps its state and schedule across a reconfigure (SIGHUP); new ones start as
    // keepalived starts them (up, or down with alpha); the effects of the new set (new
    // real servers down with alpha, ...) come out of take_effects().
    void configure(const std::vector<keepalived::VirtualServerHealth>& services);

    int epoll_fd() const;
    // Drives the probes whose descriptors are ready (never blocks).
    void on_ready();
    // Starts the attempts that are due, times out the late ones, retries, reaps scripts.
    void run_due();
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
    // a reload that replaced the services does not).
    void replay_all_effects();

    std::vector<ServiceStatus> status() const;

    // omega: on shutdown, run the notify_down / quorum_down scripts keepalived would.
    void shutdown();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dplb::health
