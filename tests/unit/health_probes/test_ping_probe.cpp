// PING_CHECK against 127.0.0.1, and the echo packets themselves.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/health/probes/icmp_echo.hpp"
#include "probe_driver.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::keepalived::CheckerType;
namespace probes = dplb::health::probes;

TEST_CASE("PING_CHECK: 127.0.0.1 answers") {
    auto probe = make_probe(spec_of(CheckerType::ping), local(0));
    Outcome o = drive(*probe, 1000ms);
    if (!o.result.up && o.result.reason.find("socket") != std::string::npos) {
        WARN("no ICMP socket allowed here: " << o.result.reason);
        return;
    }
    CHECK(o.result.up);
    CHECK(o.result.reason.empty());
}

namespace {

// The child's side of the raw-socket test, without Catch (a failed REQUIRE in a forked
// child would go on running the parent's tests): 0 up, 1 down, 77 nothing to test.
[[noreturn]] void ping_as_other_group() {
    if (::setegid(65534) != 0) ::_exit(77);
    int s = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (s >= 0) ::_exit(77);  // ping sockets allowed for this group too: no fallback to test
    auto probe = make_probe(spec_of(CheckerType::ping), local(0));
    auto r = probe->start();
    if (!r) {
        int ep = ::epoll_create1(0);
        epoll_event ev{};
        ev.events = probe->events();
        ::epoll_ctl(ep, EPOLL_CTL_ADD, probe->fd(), &ev);
        for (int i = 0; i < 10 && !r; ++i) {
            if (::epoll_wait(ep, &ev, 1, 100) == 1) r = probe->on_event(ev.events);
        }
        if (!r) r = probe->on_timeout();
    }
    ::_exit(r->up ? 0 : 1);
}

}  // namespace

TEST_CASE("PING_CHECK falls back to a raw socket when ping sockets are not allowed") {
    if (::geteuid() != 0) {
        WARN("not root: no raw socket to fall back to");
        return;
    }
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ping_as_other_group();
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        WARN("ping sockets are open to every group here: the raw fallback is not exercised");
        return;
    }
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("ICMP echo request: keepalived's payload, a valid checksum") {
    auto p = probes::icmp_echo_request(0x1234, 0x0102);
    REQUIRE(p.size() == 8 + 128);
    CHECK(p[0] == 8);
    CHECK(p[4] == 0x12);
    CHECK(p[5] == 0x34);
    CHECK(p[6] == 0x01);
    CHECK(p[7] == 0x02);
    CHECK(std::string(p.begin() + 8, p.begin() + 27) == "keepalived check - ");
    CHECK(probes::internet_checksum(p.data(), p.size()) == 0);  // checksum over a valid packet
}

TEST_CASE("ICMP matching: our reply, our request quoted in an error, anything else") {
    auto req = probes::icmp_echo_request(7, 9);
    std::vector<uint8_t> reply = req;
    reply[0] = 0;
    CHECK(probes::match_icmp(reply.data(), reply.size(), false, false, 0, 9) == probes::IcmpMatch::reply);
    CHECK(probes::match_icmp(reply.data(), reply.size(), false, true, 8, 9) == probes::IcmpMatch::other);
    CHECK(probes::match_icmp(reply.data(), reply.size(), false, false, 0, 10) == probes::IcmpMatch::other);
    CHECK(probes::match_icmp(req.data(), req.size(), false, false, 7, 9) == probes::IcmpMatch::other);  // own request

    // A raw socket's view: IP header first.
    std::vector<uint8_t> ip(20, 0);
    ip[0] = 0x45;
    std::vector<uint8_t> raw = ip;
    raw.insert(raw.end(), reply.begin(), reply.end());
    CHECK(probes::match_icmp(raw.data(), raw.size(), true, true, 7, 9) == probes::IcmpMatch::reply);

    // Destination unreachable quoting our request (IP header + 8 bytes).
    std::vector<uint8_t> err = ip;
    std::vector<uint8_t> icmp_err = {3, 1, 0, 0, 0, 0, 0, 0};
    err.insert(err.end(), icmp_err.begin(), icmp_err.end());
    err.insert(err.end(), ip.begin(), ip.end());
    err.insert(err.end(), req.begin(), req.begin() + 8);
    CHECK(probes::match_icmp(err.data(), err.size(), true, true, 7, 9) == probes::IcmpMatch::unreachable);
    CHECK(probes::match_icmp(err.data(), err.size(), true, true, 8, 9) == probes::IcmpMatch::other);
}
