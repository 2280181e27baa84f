// One attempt of one checker (TCP_CHECK, HTTP_GET, ... as keepalived.conf describes it)
// against one target, as a non-blocking state machine: the health engine owns the epoll
// set, the deadline and the schedule; a probe only says which descriptor it waits on and
// what it decides when that descriptor is ready. Thousands of probes share one thread.
//
// Life of a probe: start() once, then on_event() each time its fd() is ready for events(),
// until one of them returns a result; or on_timeout() when the engine's deadline passes
// first. After a result (or on_timeout) the probe holds no descriptor and no child process;
// the engine destroys it. fd() and events() may change after every step (a TCP connect
// waits for EPOLLOUT, the HTTP answer for EPOLLIN, a MISC_CHECK waits on a pidfd).
//
// The implementations live in control/health/probes/, one checker type per file, and follow
// keepalived 2.2.7's checkers (what each takes for up is written at the top of its file).
//
// Threading: one probe is driven by one thread (dplb-control's event loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "control/keepalived/keepalived_config.hpp"
#include "dplb/ip4.hpp"

namespace dplb::health {

struct ProbeResult {
    bool up = false;
    // Why it failed, for the --health listing and the log: "connect: Connection refused",
    // "HTTP status 500 not in 200-299", "digest 9e10... != expected 1f2e...", "timeout".
    std::string reason;
    // MISC_CHECK with misc_dynamic: the weight the exit code asked for (exit 2..255 ->
    // 0..253); nullopt after exit 0, which keepalived takes for "weight unchanged".
    std::optional<uint32_t> weight;
};

// Where one attempt goes: connect_ip/connect_port when the checker names them, else the
// real server's own address and port (for DR/TUN too: never the VIP).
struct ProbeTarget {
    Ip4 address;
    uint16_t port = 0;
    std::optional<Ip4> bind_address;  // bindto
    std::optional<uint16_t> bind_port;
};

class Probe {
public:
    virtual ~Probe() = default;

    // Begins the attempt. A result at once when it cannot even start (socket(), fork()
    // failed, a connect refused synchronously, ...).
    virtual std::optional<ProbeResult> start() = 0;
    // fd() became ready with these epoll events (EPOLLIN/OUT/ERR/HUP).
    virtual std::optional<ProbeResult> on_event(uint32_t epoll_events) = 0;
    // The engine's deadline passed first: give up, release everything, say why. Usually
    // down ("timeout ..."), but not always: a UDP_CHECK without require_reply is *up* when
    // its deadline passes without an ICMP error (keepalived takes silence for success).
    virtual ProbeResult on_timeout() = 0;

    // What the probe waits on now (valid between start() and a result): -1 = nothing.
    virtual int fd() const = 0;
    virtual uint32_t events() const = 0;
};

// The deadline the engine gives one attempt, seconds: connect_timeout for network
// checkers, times the number of urls for HTTP_GET / SSL_GET (one attempt checks every url,
// one connection each); for MISC_CHECK misc_timeout, or when unset (or 0) `delay_loop`,
// which must be the virtual server's: keepalived uses vs->delay_loop here, not the
// checker's own.
double attempt_timeout(const keepalived::CheckerSpec&, double delay_loop);

// A probe for the spec's checker type. Never null.
std::unique_ptr<Probe> make_probe(const keepalived::CheckerSpec&, const ProbeTarget&);

// Reaps MISC_CHECK scripts that were killed on timeout but had not died yet when their
// probe let go of them (probes/child_reaper.hpp); returns how many are still pending. The
// engine calls it from run_due(). Never blocks; callable from any thread.
std::size_t reap_children();

}  // namespace dplb::health
