// A HealthEngine in a test world: a fake clock, scripted probes (each target answers what
// the test says: at once, never — till its deadline — or through a pipe the test writes,
// which drives the engine's epoll path), recorded scripts and log lines, and builders for
// keepalived virtual servers.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/health/health_engine.hpp"

namespace hw {

using namespace dplb;
using dplb::health::Clock;

inline Ip4 ip(const char* s) { return *Ip4::parse(s); }

// What a target answers to each attempt.
struct Behaviour {
    bool up = true;
    std::string reason = "connect: Connection refused";
    std::optional<uint32_t> weight;  // MISC_CHECK misc_dynamic: exit status - 2
    bool hang = false;               // no answer: the attempt's deadline ends it
    bool via_pipe = false;           // the answer comes when the test writes the pipe
};

struct AttemptRecord {
    double at;  // seconds since the world's start
    Ip4 address;
    uint16_t port;
    keepalived::CheckerType type;
};

class World;

// The probe of one attempt, playing its target's Behaviour.
class FakeProbe : public health::Probe {
public:
    FakeProbe(World& w, health::ProbeTarget t) : world_(w), target_(t) {}
    ~FakeProbe() override {
        if (fd_ >= 0) close(fd_);
    }
    std::optional<health::ProbeResult> start() override;
    std::optional<health::ProbeResult> on_event(uint32_t) override {
        char c = 0;
        ssize_t n = read(fd_, &c, 1);
        close(fd_);
        fd_ = -1;
        if (n == 1 && c == '1') return health::ProbeResult{true, "", std::nullopt};
        return health::ProbeResult{false, "pipe said down", std::nullopt};
    }
    health::ProbeResult on_timeout() override {
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
        return health::ProbeResult{false, "timeout", std::nullopt};
    }
    int fd() const override { return fd_; }
    uint32_t events() const override { return fd_ >= 0 ? uint32_t(EPOLLIN) : 0u; }

private:
    World& world_;
    health::ProbeTarget target_;
    int fd_ = -1;
};

class World {
public:
    Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1000);
    Clock::time_point now = t0;
    std::map<std::pair<uint32_t, uint16_t>, Behaviour> targets;
    std::vector<AttemptRecord> attempts;
    std::vector<std::string> scripts;
    std::vector<std::string> logs;
    std::vector<int> pipe_writers;  // write ends of the attempts waiting on a pipe
    std::unique_ptr<health::HealthEngine> engine;

    explicit World(health::EngineOptions extra = {}, bool record_scripts = true) {
        health::EngineOptions o = std::move(extra);
        o.now = [this] { return now; };
        o.make_probe = [this](const keepalived::CheckerSpec& spec, const health::ProbeTarget& t) {
            attempts.push_back(AttemptRecord{seconds(now), t.address, t.port, spec.type});
            return std::make_unique<FakeProbe>(*this, t);
        };
        o.attempt_timeout = [](const keepalived::CheckerSpec& spec, double delay_loop) {
            return spec.type == keepalived::CheckerType::misc ? spec.misc_timeout.value_or(delay_loop)
                                                               : spec.connect_timeout;
        };
        if (record_scripts) o.run_script = [this](const std::string& c) { scripts.push_back(c); };
        if (!o.seed) o.seed = 42;
        engine = std::make_unique<health::HealthEngine>(std::move(o), [this](std::string_view l) {
            logs.emplace_back(l);
        });
    }
    ~World() {
        engine.reset();
        for (int fd : pipe_writers) close(fd);
    }

    Behaviour& target(const char* address, uint16_t port) { return targets[{ip(address).host(), port}]; }
    double seconds(Clock::time_point t) const { return std::chrono::duration<double>(t - t0).count(); }

    // Runs the engine up to `s` seconds after the start, deadline after deadline.
    void run_to(double s) {
        auto until = t0 + health::seconds(s);
        for (int guard = 0; guard < 1000000; ++guard) {
            auto d = engine->next_deadline();
            if (!d || *d > until) break;
            now = std::max(now, *d);
            engine->run_due();
        }
        now = std::max(now, until);
        engine->run_due();
    }

    // Answers every attempt waiting on a pipe ('1' up, '0' down) and lets the engine read
    // them through its epoll set.
    void answer_pipes(char c) {
        for (int fd : pipe_writers) {
            (void)send(fd, &c, 1, MSG_NOSIGNAL);  // fails for an attempt the engine stopped
            close(fd);
        }
        pipe_writers.clear();
        pollfd p{engine->epoll_fd(), POLLIN, 0};
        REQUIRE(poll(&p, 1, 1000) == 1);
        engine->on_ready();
    }

    std::vector<health::RealEffect> effects() { return engine->take_real_effects(); }
    std::vector<health::SorryEffect> sorry() { return engine->take_sorry_effects(); }
    std::vector<std::string> take_scripts() { return std::exchange(scripts, {}); }

    const health::RealStatus& real_status(std::size_t service, std::size_t real) {
        status_ = engine->status();
        return status_.at(service).reals.at(real);
    }
    health::ServiceStatus service_status(std::size_t service) { return engine->status().at(service); }

private:
    std::vector<health::ServiceStatus> status_;
};

inline std::optional<health::ProbeResult> FakeProbe::start() {
    Behaviour b = world_.targets[{target_.address.host(), target_.port}];
    if (b.via_pipe) {
        int p[2];  // a socket pair: the test's write to a gone attempt gets EPIPE, not SIGPIPE
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) == 0);
        fd_ = p[0];
        world_.pipe_writers.push_back(p[1]);
        return std::nullopt;
    }
    if (b.hang) return std::nullopt;
    return health::ProbeResult{b.up, b.up ? "" : b.reason, b.weight};
}

// ---- keepalived configuration builders

inline keepalived::CheckerSpec tcp_check(uint32_t retry = 1, double delay_before_retry = 1,
                                         std::optional<double> warmup = 0.0) {
    keepalived::CheckerSpec c;
    c.type = keepalived::CheckerType::tcp;
    c.retry = retry;
    c.delay_before_retry = delay_before_retry;
    c.warmup = warmup;
    c.connect_timeout = 3;
    return c;
}

inline keepalived::CheckerSpec misc_check(bool dynamic) {
    keepalived::CheckerSpec c;
    c.type = keepalived::CheckerType::misc;
    c.misc_path = "/usr/local/bin/check";
    c.misc_dynamic = dynamic;
    c.retry = 0;
    c.warmup = 0.0;
    return c;
}

inline keepalived::RealServerHealth real(const char* address, uint16_t port,
                                         std::vector<keepalived::CheckerSpec> checkers, uint32_t weight = 1) {
    keepalived::RealServerHealth r;
    r.address = ip(address);
    r.port = port;
    r.weight = weight;
    r.checkers = std::move(checkers);
    return r;
}

inline config::ServiceKey key(const char* vip, uint16_t port) {
    return config::ServiceKey{config::Protocol::tcp, ip(vip), port, 0};
}

inline keepalived::VirtualServerHealth service(const char* vip, uint16_t port,
                                               std::vector<keepalived::RealServerHealth> reals,
                                               double delay_loop = 6) {
    keepalived::VirtualServerHealth v;
    v.key = key(vip, port);
    v.delay_loop = delay_loop;
    v.reals = std::move(reals);
    return v;
}

inline health::RealEffect effect(const char* vip, const char* address, uint16_t port, health::RealState state,
                                 std::optional<uint32_t> weight = std::nullopt) {
    return health::RealEffect{key(vip, 80), ip(address), port, state, weight};
}

}  // namespace hw

namespace Catch {

template <>
struct StringMaker<dplb::health::RealEffect> {
    static std::string convert(const dplb::health::RealEffect& e) {
        const char* s = e.state == dplb::health::RealState::up ? "up"
                        : e.state == dplb::health::RealState::removed ? "removed" : "inhibited";
        return "{" + e.address.str() + ":" + std::to_string(e.port) + " " + s +
               (e.weight ? " w=" + std::to_string(*e.weight) : std::string()) + "}";
    }
};

template <>
struct StringMaker<dplb::health::SorryEffect> {
    static std::string convert(const dplb::health::SorryEffect& e) {
        return std::string("{sorry ") + (e.active ? "in" : "out") + "}";
    }
};

}  // namespace Catch
