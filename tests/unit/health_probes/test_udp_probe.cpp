// UDP_CHECK: an echo peer with and without require_reply, reply data with wildcards, a
// closed port (ICMP port unreachable: down), and silence (up unless a reply is required).
#include "peers.hpp"
#include "probe_driver.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::keepalived::CheckerSpec;
using dplb::keepalived::CheckerType;

namespace {

CheckerSpec udp(bool require_reply) {
    CheckerSpec s = spec_of(CheckerType::udp);
    s.require_reply = require_reply;
    return s;
}

}  // namespace

TEST_CASE("UDP_CHECK with require_reply: up when the peer answers") {
    std::string seen;
    std::mutex m;
    UdpPeer echo([&](const std::string& req) {
        std::lock_guard lock(m);
        seen = req;
        return std::optional<std::string>(req);
    });
    CheckerSpec s = udp(true);
    SECTION("the default payload is keepalived's") {
        auto probe = make_probe(s, local(echo.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK(o.result.up);
        std::lock_guard lock(m);
        CHECK(seen == "keepalived check - keepalived ch");  // 32 bytes
    }
    SECTION("a hex payload, and reply data that matches (wildcards too)") {
        s.payload = "6b65 7901ff";
        s.reply_data = "6bx5";
        auto probe = make_probe(s, local(echo.port()));
        CHECK(drive(*probe, 1000ms).result.up);
        std::lock_guard lock(m);
        CHECK(seen == std::string("key\x01\xff", 5));
    }
    SECTION("reply data that does not match") {
        s.payload = "6b6579";
        s.reply_data = "ffff";
        auto probe = make_probe(s, local(echo.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "reply does not match the expected data");
    }
    SECTION("a payload that is not hex") {
        s.payload = "zz";
        auto probe = make_probe(s, local(echo.port()));
        CHECK(drive(*probe, 1000ms).result.reason == "payload: not a hex string: 'zz'");
    }
}

TEST_CASE("UDP_CHECK to a closed port is down: ICMP port unreachable") {
    ClosedPort closed(SOCK_DGRAM);
    for (bool require_reply : {false, true}) {
        auto probe = make_probe(udp(require_reply), local(closed.port()));
        Outcome o = drive(*probe, 1000ms);
        CHECK_FALSE(o.result.up);
        CHECK_FALSE(o.timed_out);
        CHECK(o.result.reason == "recv: Connection refused");
    }
}

TEST_CASE("UDP_CHECK and a silent peer: up without require_reply, down with it") {
    UdpPeer silent([](const std::string&) { return std::optional<std::string>(); });
    SECTION("no reply required: silence is success (keepalived)") {
        auto probe = make_probe(udp(false), local(silent.port()));
        Outcome o = drive(*probe, 200ms);
        CHECK(o.timed_out);
        CHECK(o.result.up);
        CHECK(o.result.reason.empty());
    }
    SECTION("reply required") {
        auto probe = make_probe(udp(true), local(silent.port()));
        Outcome o = drive(*probe, 200ms);
        CHECK(o.timed_out);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "timeout: no reply");
    }
}
