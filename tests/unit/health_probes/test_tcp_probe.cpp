// TCP_CHECK against loopback peers: a listener (up), a bound but not listening port
// (refused), a listener whose accept queue is full (the SYN is dropped: timeout), and the
// bindto / bind_port source.
#include <sys/socket.h>

#include "peers.hpp"
#include "probe_driver.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::keepalived::CheckerType;

TEST_CASE("TCP_CHECK is up when the connection completes") {
    TcpServer server([](int&, const Stop&) {});
    auto probe = make_probe(spec_of(CheckerType::tcp), local(server.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK(o.result.up);
    CHECK(o.result.reason.empty());
    CHECK_FALSE(o.timed_out);
}

TEST_CASE("TCP_CHECK to a closed port is down: connection refused") {
    ClosedPort closed(SOCK_STREAM);
    auto probe = make_probe(spec_of(CheckerType::tcp), local(closed.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "connect: Connection refused");
    CHECK_FALSE(o.timed_out);
}

TEST_CASE("TCP_CHECK times out when the listener drops the SYN (accept queue full)") {
    // listen(0): the accept queue holds one connection; fill it, and later SYNs are dropped.
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa = loopback(0);
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(lfd, 0) == 0);
    uint16_t port = local_port(lfd);
    std::vector<int> fillers;
    for (int i = 0; i < 2; ++i) {
        int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_in to = loopback(port);
        ::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to);
        fillers.push_back(c);
    }
    std::this_thread::sleep_for(50ms);
    auto probe = make_probe(spec_of(CheckerType::tcp), local(port));
    Outcome o = drive(*probe, 300ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.timed_out);
    CHECK(o.result.reason == "timeout while connecting");
    for (int c : fillers) ::close(c);
    ::close(lfd);
}

TEST_CASE("TCP_CHECK binds to bindto and bind_port, attempt after attempt") {
    TcpServer server([](int&, const Stop&) {});
    ClosedPort source(SOCK_DGRAM);  // a port number free for TCP too, most likely
    auto target = local(server.port());
    target.bind_address = *dplb::Ip4::parse("127.0.0.1");
    target.bind_port = source.port();
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto probe = make_probe(spec_of(CheckerType::tcp), target);
        Outcome o = drive(*probe, 1000ms);
        CHECK(o.result.up);
        CHECK(o.result.reason.empty());
    }
    for (int i = 0; i < 100 && server.connections() < 2; ++i) std::this_thread::sleep_for(10ms);
    server.stop();
    auto ports = server.peer_ports();
    REQUIRE(ports.size() == 2);
    CHECK(ports[0] == source.port());
    CHECK(ports[1] == source.port());
}
