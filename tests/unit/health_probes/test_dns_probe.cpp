// DNS_CHECK against a scripted UDP responder, and the query bytes keepalived sends.
#include "control/health/probes/dns_message.hpp"
#include "peers.hpp"
#include "probe_driver.hpp"

using namespace probe_test;
using dplb::health::make_probe;
using dplb::keepalived::CheckerSpec;
using dplb::keepalived::CheckerType;
namespace probes = dplb::health::probes;

namespace {

// An answer to `query`: its id (or another), QR|RD|RA, the given rcode, the question again.
std::string answer(const std::string& query, int rcode, bool same_id = true, bool qr = true) {
    std::string a = query;
    if (!same_id) a[1] = char(a[1] ^ 0x5a);
    a[2] = char((qr ? 0x80 : 0) | 0x01);
    a[3] = char(0x80 | rcode);
    return a;
}

CheckerSpec dns(std::string type, std::string name) {
    CheckerSpec s = spec_of(CheckerType::dns);
    s.dns_type = std::move(type);
    s.dns_name = std::move(name);
    return s;
}

}  // namespace

TEST_CASE("DNS_CHECK: a NOERROR answer to our query is up") {
    std::string seen;
    std::mutex m;
    UdpPeer server([&](const std::string& q) {
        std::lock_guard lock(m);
        seen = q;
        return std::optional<std::string>(answer(q, 0));
    });
    auto probe = make_probe(dns("a", "example.com"), local(server.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK(o.result.up);
    std::lock_guard lock(m);
    REQUIRE(seen.size() == 12 + 13 + 4);
    CHECK(seen.substr(2, 10) == std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10));
    CHECK(seen.substr(12) == std::string("\x07" "example\x03" "com\x00" "\x00\x01\x00\x01", 17));
}

TEST_CASE("DNS_CHECK: an error rcode is down") {
    UdpPeer server([](const std::string& q) { return std::optional<std::string>(answer(q, 3)); });
    auto probe = make_probe(dns("SOA", "."), local(server.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK_FALSE(o.result.up);
    CHECK(o.result.reason == "DNS rcode 3 (NXDOMAIN)");
}

TEST_CASE("DNS_CHECK: an answer with another id, or a query, is ignored") {
    SECTION("only wrong ids: no answer by the deadline") {
        UdpPeer server([](const std::string& q) { return std::optional<std::string>(answer(q, 0, false)); });
        auto probe = make_probe(dns("A", "example.com"), local(server.port()));
        Outcome o = drive(*probe, 200ms);
        CHECK(o.timed_out);
        CHECK_FALSE(o.result.up);
        CHECK(o.result.reason == "timeout: no answer");
    }
    SECTION("a datagram that is not a response (QR clear)") {
        UdpPeer server([](const std::string& q) { return std::optional<std::string>(answer(q, 0, true, false)); });
        auto probe = make_probe(dns("A", "example.com"), local(server.port()));
        CHECK(drive(*probe, 200ms).timed_out);
    }
}

TEST_CASE("DNS_CHECK: no server is down at once (port unreachable)") {
    ClosedPort closed(SOCK_DGRAM);
    auto probe = make_probe(dns("SOA", "."), local(closed.port()));
    Outcome o = drive(*probe, 1000ms);
    CHECK_FALSE(o.timed_out);
    CHECK(o.result.reason == "recv: Connection refused");
}

TEST_CASE("DNS query bytes: root, trailing dot, types, bad names") {
    auto root = probes::dns_query(0xabcd, ".", 6);
    REQUIRE(root);
    CHECK(*root == std::vector<uint8_t>{0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1});
    CHECK(probes::dns_query(1, "example.com.", 1) == probes::dns_query(1, "example.com", 1));
    CHECK_FALSE(probes::dns_query(1, "a..b", 1));
    CHECK_FALSE(probes::dns_query(1, ".a", 1));
    CHECK_FALSE(probes::dns_query(1, std::string(64, 'x'), 1));
    CHECK(probes::dns_type_code("aaaa") == std::optional<uint16_t>(28));
    CHECK(probes::dns_type_code("DNSKEY") == std::optional<uint16_t>(48));
    CHECK_FALSE(probes::dns_type_code("PTR"));
}
