// Persistence templates (ipvsadm -p/-M) and port groups (ipvsadm -f) in the Forwarder, on
// crafted packets: which real server each new connection gets, when the template lives and
// dies, which packets a port group matches, and that every connection of one persistent
// client has one owning worker.
#include <set>
#include <vector>

#include "catch_print.hpp"
#include "dataplane/flow/owner.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using Action = fwd::Verdict::Action;
using config::ForwardMethod;
using config::Protocol;
using config::Scheduler;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn;
const uint32_t RA = ip("10.0.0.11"), RB = ip("10.0.0.12");
constexpr uint32_t template_seconds = 10;

// TCP VIP:80 and VIP:8080, NAT to RA and RB, rr, persistent for 10 s with `netmask`;
// mark 66 (VIP:443 and VIP:8000-8099), DR to RA and RB, rr, persistent when `mark_persistent`.
config::Config persistence_config(const char* netmask, bool mark_persistent = true) {
    config::Config c;
    auto nat = [] { return std::vector{real("10.0.0.11", 8080, ForwardMethod::nat), real("10.0.0.12", 8080, ForwardMethod::nat)}; };
    c.services.push_back(persistent(service(Protocol::tcp, "192.0.2.100", 80, Scheduler::rr, nat()), template_seconds, netmask));
    c.services.push_back(persistent(service(Protocol::tcp, "192.0.2.100", 8080, Scheduler::rr, nat()), template_seconds, netmask));
    c.port_groups.push_back(port_group(66, {match(Protocol::tcp, "192.0.2.100", 443, 443),
                                            match(Protocol::tcp, "192.0.2.100", 8000, 8099)}));
    config::Service mark = mark_service(66, Scheduler::rr, {real("10.0.0.11", 0, ForwardMethod::dr), real("10.0.0.12", 0, ForwardMethod::dr)});
    c.services.push_back(mark_persistent ? persistent(mark, template_seconds, netmask) : mark);
    return c;
}

Lb make_lb(const char* netmask = "255.255.255.255", bool mark_persistent = true, unsigned nworkers = 1) {
    LbOptions o;
    o.config = persistence_config(netmask, mark_persistent);
    o.nworkers = nworkers;
    return Lb(o);
}

FrameSpec syn_from(uint32_t client, uint16_t cport, uint16_t vport, uint8_t proto = pkt::proto_tcp) {
    FrameSpec s = client_packet(cport, Net::vip, vport, SYN, proto);
    s.saddr = client;
    return s;
}

// The real server a new connection from client:cport to VIP:vport was sent to.
uint32_t connect(Lb& lb, uint32_t client, uint16_t cport, uint16_t vport) {
    Bytes f = build_frame(syn_from(client, cport, vport));
    fwd::Verdict v = lb.send(f, Net::client_port);
    REQUIRE(v.action == Action::forward);
    REQUIRE((v.route_to == RA || v.route_to == RB));
    return v.route_to;
}

uint32_t other(uint32_t rip) { return rip == RA ? RB : RA; }

}  // namespace

TEST_CASE("Persistence sends every connection of a client to its template's server", "[persistence]") {
    Lb lb = make_lb();
    const uint32_t c1 = ip("198.51.100.7"), c2 = ip("198.51.100.8");
    const uint32_t first = connect(lb, c1, 40000, 80);
    for (uint16_t cport = 40001; cport < 40020; ++cport) CHECK(connect(lb, c1, cport, 80) == first);
    // rr moved once for c1's template: the next client gets the other server, and keeps it.
    const uint32_t second = connect(lb, c2, 40000, 80);
    CHECK(second == other(first));
    for (uint16_t cport = 40001; cport < 40010; ++cport) CHECK(connect(lb, c2, cport, 80) == second);

    std::vector<Session> t = lb.templates();
    REQUIRE(t.size() == 2);
    CHECK(lb.real(pkt::proto_tcp, Net::vip, 80, first).persistent.get() == 1);
    CHECK(lb.real(pkt::proto_tcp, Net::vip, 80, second).persistent.get() == 1);
    CHECK(lb.fwd.counters().sessions_created.get() == 30);  // templates are not connections
}

TEST_CASE("A persistence template is per service: another VIP:port schedules on its own", "[persistence]") {
    Lb lb = make_lb();
    const uint32_t c = ip("198.51.100.7");
    const uint32_t on80 = connect(lb, c, 40000, 80);
    // VIP:8080's rr starts from the same place, but it is its own service with its own template.
    const uint32_t d1 = ip("198.51.100.9");
    const uint32_t on8080_first = connect(lb, d1, 40000, 8080);
    const uint32_t on8080 = connect(lb, c, 40001, 8080);
    CHECK(on8080 == other(on8080_first));
    CHECK(connect(lb, c, 40002, 80) == on80);
    CHECK(lb.templates().size() == 3);
}

TEST_CASE("The persistence netmask groups clients (-M)", "[persistence]") {
    Lb lb = make_lb("255.255.255.0");
    const uint32_t first = connect(lb, ip("198.51.100.7"), 40000, 80);
    for (const char* neighbour : {"198.51.100.1", "198.51.100.99", "198.51.100.254"})
        CHECK(connect(lb, ip(neighbour), 40001, 80) == first);
    CHECK(connect(lb, ip("198.51.101.7"), 40000, 80) == other(first));
    CHECK(lb.templates().size() == 2);
}

TEST_CASE("A template outlives its timeout while it controls connections, then expires", "[persistence][expiry]") {
    Lb lb = make_lb();
    const uint32_t c = ip("198.51.100.7");
    const uint32_t first = connect(lb, c, 40000, 80);
    REQUIRE(lb.templates().size() == 1);
    // Past the template's own timeout, its connection (SYN_RECV) still lives: the template stays.
    lb.expire_at(lb.now + (template_seconds + 5) * 1000);
    REQUIRE(lb.templates().size() == 1);
    REQUIRE(lb.connections().size() == 1);
    CHECK(connect(lb, c, 40001, 80) == first);
    // Once every connection has expired, the template goes after its timeout.
    lb.expire_at(lb.now + 3600 * 1000);
    lb.expire_at(lb.now + 3600 * 1000);
    CHECK(lb.connections().empty());
    CHECK(lb.templates().empty());
    CHECK(lb.real(pkt::proto_tcp, Net::vip, 80, first).persistent.get() == 0);
    // A new template is made by scheduling afresh: rr moved on, so the client now lands on
    // the other server.
    CHECK(connect(lb, c, 40002, 80) == other(first));
}

TEST_CASE("A template whose server left the service is bound again to a server that is there", "[persistence]") {
    Lb lb = make_lb();
    const uint32_t c = ip("198.51.100.7");
    const uint32_t first = connect(lb, c, 40000, 80);
    config::Config cfg = persistence_config("255.255.255.255");
    auto& reals = cfg.services[0].reals;
    reals.erase(reals.begin() + (first == RA ? 0 : 1));
    lb.reconfigure(cfg);
    CHECK(connect(lb, c, 40001, 80) == other(first));
    CHECK(connect(lb, c, 40002, 80) == other(first));
    CHECK(lb.templates().size() == 1);
}

TEST_CASE("A port group matches its VIP, protocol and ports, and nothing else", "[port_group]") {
    Lb lb = make_lb("255.255.255.255", false);
    const uint32_t c = ip("198.51.100.7");
    std::set<uint32_t> seen;
    for (uint16_t vport : {443, 8000, 8050, 8099}) seen.insert(connect(lb, c, uint16_t(41000 + vport % 1000), vport));
    CHECK(seen == std::set<uint32_t>{RA, RB});
    // Ports outside the ranges, another protocol, and another address are not the mark's.
    expect_drop(lb, syn_from(c, 41100, 444), Net::client_port, DropReason::no_service);
    expect_drop(lb, syn_from(c, 41101, 8100), Net::client_port, DropReason::no_service);
    expect_drop(lb, syn_from(c, 41102, 7999), Net::client_port, DropReason::no_service);
    expect_drop(lb, syn_from(c, 41103, 443, pkt::proto_udp), Net::client_port, DropReason::no_service);
    FrameSpec vip2 = syn_from(c, 41104, 443);
    vip2.daddr = Net::vip2;
    Bytes f = build_frame(vip2);
    CHECK(lb.send(f, Net::client_port).action == Action::drop);
}

TEST_CASE("A port group schedules its ports as one service (seed 001 section 9)", "[port_group]") {
    Lb lb = make_lb("255.255.255.255", false);
    const uint32_t c = ip("198.51.100.7");
    // One rr turn per connection across both ports: 443, 8000, 443, 8000 alternate servers.
    const uint32_t a = connect(lb, c, 42000, 443);
    CHECK(connect(lb, c, 42001, 8000) == other(a));
    CHECK(connect(lb, c, 42002, 443) == a);
    CHECK(connect(lb, c, 42003, 8000) == other(a));
    CHECK(lb.service_counters(pkt::proto_tcp, Net::vip, 443).conns.get() == 4);
}

TEST_CASE("A persistent port group keeps a client on one server on every port", "[port_group][persistence]") {
    Lb lb = make_lb();
    const uint32_t c1 = ip("198.51.100.7"), c2 = ip("198.51.100.8");
    const uint32_t s1 = connect(lb, c1, 43000, 443);
    const uint32_t s2 = connect(lb, c2, 43000, 8000);
    CHECK(s2 == other(s1));
    for (uint16_t i = 1; i < 10; ++i) {
        CHECK(connect(lb, c1, uint16_t(43000 + i), i % 2 ? 8001 + i : 443) == s1);
        CHECK(connect(lb, c2, uint16_t(43000 + i), i % 2 ? 443 : 8050 + i) == s2);
    }
    CHECK(lb.templates().size() == 2);
}

TEST_CASE("Every connection of a persistent client has one owner, whatever its port", "[persistence][owner]") {
    for (unsigned n : {2u, 3u, 4u}) {
        Lb lb = make_lb("255.255.255.0", true, n);
        for (const char* client : {"198.51.100.7", "198.51.101.7", "203.0.113.9", "192.0.2.50"}) {
            const uint32_t c = ip(client);
            const unsigned o = lb.owner(syn_from(c, 40000, 80));
            INFO(n << " workers, client " << client);
            for (uint16_t cport = 40001; cport < 40050; ++cport) {
                CHECK(lb.owner(syn_from(c, cport, 80)) == o);
                CHECK(lb.owner(syn_from(c, cport, 443)) == o);
                CHECK(lb.owner(syn_from(c, cport, 8042)) == o);
                // The same /24 is the same template, so the same owner.
                CHECK(lb.owner(syn_from(c ^ ip("0.0.0.77"), cport, 80)) == o);
            }
        }
    }
}
