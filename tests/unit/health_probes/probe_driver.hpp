// Runs one probe to completion the way the health engine does, with an epoll set of its
// own: waits on fd()/events() after every step, calls on_event, and calls on_timeout when
// the deadline passes first.
//
// Re-arming after each step uses EPOLL_CTL_MOD and falls back to ADD on ENOENT: a probe may
// close its descriptor and open another that gets the same number (HTTP's next url), whose
// registration the kernel dropped with the old file.
#pragma once

#include <sys/epoll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>

#include "control/health/probe.hpp"

namespace probe_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Outcome {
    dplb::health::ProbeResult result;
    bool timed_out = false;  // the result came from on_timeout()
    std::chrono::milliseconds took{0};
};

inline Outcome drive(dplb::health::Probe& probe, std::chrono::milliseconds deadline) {
    auto t0 = Clock::now();
    auto end = t0 + deadline;
    auto took = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0); };
    if (auto r = probe.start()) {
        CHECK(probe.fd() == -1);  // a result: no descriptor left
        return {*r, false, took()};
    }
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    REQUIRE(ep >= 0);
    int registered = -1;
    for (;;) {
        int fd = probe.fd();
        REQUIRE(fd >= 0);  // between start() and a result a probe always waits on something
        epoll_event ev{};
        ev.events = probe.events();
        ev.data.fd = fd;
        if (fd != registered) {
            if (registered >= 0) ::epoll_ctl(ep, EPOLL_CTL_DEL, registered, nullptr);  // may be gone already
            registered = -1;
        }
        if (::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0) {
            REQUIRE(errno == ENOENT);
            REQUIRE(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
        }
        registered = fd;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
        epoll_event got{};
        int n = left > 0 ? ::epoll_wait(ep, &got, 1, int(left)) : 0;
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            Outcome o{probe.on_timeout(), true, took()};
            ::close(ep);
            CHECK(probe.fd() == -1);
            return o;
        }
        if (auto r = probe.on_event(got.events)) {
            ::close(ep);
            CHECK(probe.fd() == -1);
            return {*r, false, took()};
        }
    }
}

inline dplb::health::ProbeTarget local(uint16_t port) {
    dplb::health::ProbeTarget t;
    t.address = *dplb::Ip4::parse("127.0.0.1");
    t.port = port;
    return t;
}

inline dplb::keepalived::CheckerSpec spec_of(dplb::keepalived::CheckerType type) {
    dplb::keepalived::CheckerSpec s;
    s.type = type;
    return s;
}

}  // namespace probe_test
