// VIP ownership following the kernel (docs/ha.md): the owned set built from the kernel's
// addresses and a snapshot, and what the Forwarder does with it on crafted packets: a VIP
// that is not owned takes no new connection and gets no ARP or echo reply, an existing
// session keeps forwarding, FULLNAT local addresses move with their VIPs. And sloppy_tcp:
// a mid-flow segment creates its session for mh, sh and dh, not for rr.
#include "catch_print.hpp"
#include "dataplane/config/owned_addresses.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using Action = fwd::Verdict::Action;
using config::ForwardMethod;
using config::Protocol;
using config::Scheduler;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack, RST = pkt::tcp_rst, PSH = pkt::tcp_psh;
const uint32_t RS1 = ip("10.0.0.11"), RS3 = ip("10.0.0.21");

OwnedAddresses owned_by_kernel(const Lb& lb, std::vector<uint32_t> kernel) {
    return build_owned(kernel, *lb.snap, lb.laddrs);
}

fwd::Verdict arp_request(Lb& lb, uint32_t target, uint16_t port) {
    ArpSpec a;
    a.eth_src = a.sha = Net::client_gw_mac;
    a.spa = ip("192.0.2.254");
    a.tpa = target;
    Bytes f = build_arp(a);
    return lb.send_arp(f, port);
}

}  // namespace

TEST_CASE("build_owned: the kernel's VIPs and the local addresses of their services", "[ownership]") {
    Lb lb;
    SECTION("VIP held: its services' local address moves with it") {
        OwnedAddresses o = owned_by_kernel(lb, {Net::vip, Net::port0_addr});
        CHECK(o.vips == std::vector<uint32_t>{Net::vip});
        CHECK(o.laddrs == std::vector<uint32_t>{Net::lip});
        CHECK(o.owns(Net::vip));
        CHECK(o.owns(Net::lip));
        CHECK_FALSE(o.owns(Net::vip2));
        CHECK_FALSE(o.owns(Net::port0_addr));  // an interface address is no VIP
    }
    SECTION("VIP2 held: its NAT service has no local address") {
        OwnedAddresses o = owned_by_kernel(lb, {Net::vip2, Net::vip2});
        CHECK(o.vips == std::vector<uint32_t>{Net::vip2});
        CHECK(o.laddrs.empty());
        CHECK_FALSE(o.owns(Net::lip));
    }
    SECTION("nothing held, or only addresses that are no VIP") {
        CHECK(owned_by_kernel(lb, {}).addresses.size() == 0);
        CHECK(owned_by_kernel(lb, {Net::unknown, Net::lip}).addresses.size() == 0);
    }
    SECTION("a port group's addresses count too") {
        config::Config c = default_lb_config();
        c.port_groups.push_back(port_group(7, {match(Protocol::tcp, "192.0.2.103", 8000, 8100)}));
        c.services.push_back(mark_service(7, Scheduler::rr, {real("10.0.0.72", 8080)}, {"10.0.0.202"}));
        lb.reconfigure(c);
        OwnedAddresses o = owned_by_kernel(lb, {ip("192.0.2.103")});
        CHECK(o.owns(ip("10.0.0.202")));
        CHECK_FALSE(o.owns(Net::lip));
        CHECK(owned_by_kernel(lb, {Net::vip}).laddrs == std::vector<uint32_t>{Net::lip});
    }
}

TEST_CASE("Forwarder: a VIP not owned takes no new connection; sessions go on", "[ownership][forwarder]") {
    Lb lb;
    const OwnedAddresses none = owned_by_kernel(lb, {});
    const OwnedAddresses mine = owned_by_kernel(lb, {Net::vip});

    lb.fwd.set_owned(&none);
    expect_drop(lb, client_packet(40001, Net::vip, 443, SYN), Net::client_port, DropReason::vip_not_owned);
    expect_drop(lb, client_packet(40002, Net::vip, 53, 0, pkt::proto_udp, 8), Net::client_port,
                DropReason::vip_not_owned);
    CHECK(lb.fwd.sessions().size() == 0);

    // Owned: forwarded (NAT to RS3 or RS4, round robin from the first).
    lb.fwd.set_owned(&mine);
    expect_forward(lb, client_packet(40001, Net::vip, 443, SYN), Net::client_port, RS3);
    CHECK(lb.fwd.counters().sessions_created.get() == 1);
    // VIP2 is not in the set: still refused.
    expect_drop(lb, client_packet(40003, Net::vip2, 443, SYN), Net::client_port, DropReason::vip_not_owned);

    // Lost again (a VRRP backup that holds synced sessions): the session's packets go on both
    // ways, a new connection does not.
    lb.fwd.set_owned(&none);
    expect_forward(lb, client_packet(40001, Net::vip, 443, ACK), Net::client_port, RS3);
    expect_forward(lb, server_packet(RS3, 443, Net::client, 40001, SYN | ACK), Net::server_port, Net::client);
    expect_drop(lb, client_packet(40004, Net::vip, 443, SYN), Net::client_port, DropReason::vip_not_owned);
    CHECK(lb.fwd.counters().sessions_created.get() == 1);

    // No ownership set (vip_ownership "always"): everything served.
    lb.fwd.set_owned(nullptr);
    expect_forward(lb, client_packet(40004, Net::vip, 443, SYN), Net::client_port, ip("10.0.0.22"));
}

TEST_CASE("Forwarder: ARP and echo for a VIP or local address only while owned", "[ownership][forwarder]") {
    Lb lb;
    const OwnedAddresses none = owned_by_kernel(lb, {});
    const OwnedAddresses vip = owned_by_kernel(lb, {Net::vip});
    const OwnedAddresses vip2 = owned_by_kernel(lb, {Net::vip2});
    struct Case {
        const char* what;
        const OwnedAddresses* owned;
        uint32_t target;
        uint16_t port;
        bool answered;
    };
    const Case cases[] = {
        {"VIP, nothing owned", &none, Net::vip, 0, false},
        {"LIP, nothing owned", &none, Net::lip, 1, false},
        {"port 0's address, nothing owned (an interface is always ours)", &none, Net::port0_addr, 0, true},
        {"VIP owned", &vip, Net::vip, 0, true},
        {"LIP with its VIP owned", &vip, Net::lip, 1, true},
        {"VIP2 not owned while VIP is", &vip, Net::vip2, 0, false},
        {"VIP2 owned", &vip2, Net::vip2, 0, true},
        {"LIP when only VIP2 (no FULLNAT) is owned", &vip2, Net::lip, 1, false},
        {"VIP, ownership always", nullptr, Net::vip, 0, true},
        {"LIP, ownership always", nullptr, Net::lip, 1, true},
    };
    uint64_t replies = 0, refused = 0;
    for (const Case& c : cases) {
        INFO(c.what);
        lb.fwd.set_owned(c.owned);
        fwd::Verdict v = arp_request(lb, c.target, c.port);
        if (c.answered) {
            CHECK(v.action == Action::reply);
            ++replies;
        } else {
            CHECK(v.action == Action::drop);
            CHECK(v.reason == DropReason::arp_not_owned);
            ++refused;
        }
    }
    CHECK(lb.fwd.counters().arp_replies.get() == replies);
    CHECK(refused == 4);  // the worker counts each by its reason (e2e: test_vip_ownership.py)

    FrameSpec echo = client_packet(0, Net::vip, 0, 0, pkt::proto_icmp, 56);
    lb.fwd.set_owned(&none);
    expect_drop(lb, echo, Net::client_port, DropReason::vip_not_owned);
    lb.fwd.set_owned(&vip);
    Bytes f = build_frame(echo);
    CHECK(lb.send(f, Net::client_port).action == Action::reply);
}

namespace {

// One NAT service per scheduler on VIP, ports 1001..1004, two servers each.
LbOptions sloppy_options(bool sloppy) {
    LbOptions o;
    o.sloppy_tcp = sloppy;
    o.config.services.clear();
    uint16_t port = 1001;
    for (Scheduler s : {Scheduler::mh, Scheduler::sh, Scheduler::dh, Scheduler::rr})
        o.config.services.push_back(service(Protocol::tcp, "192.0.2.100", port++, s,
                                            {real("10.0.0.21", 80, ForwardMethod::nat),
                                             real("10.0.0.22", 80, ForwardMethod::nat)}));
    return o;
}

fwd::Verdict send_spec(Lb& lb, const FrameSpec& s) {
    Bytes f = build_frame(s);
    return lb.send(f, Net::client_port);
}

}  // namespace

TEST_CASE("Forwarder: sloppy_tcp picks up a mid-flow segment for mh, sh and dh only", "[sloppy][forwarder]") {
    SECTION("off (the default): every mid-flow segment is dropped") {
        Lb lb(sloppy_options(false));
        for (uint16_t port = 1001; port <= 1004; ++port)
            expect_drop(lb, client_packet(41000, Net::vip, port, ACK | PSH, pkt::proto_tcp, 10), Net::client_port,
                        DropReason::tcp_no_session);
        CHECK(lb.fwd.counters().sloppy_tcp_created.get() == 0);
        CHECK(lb.fwd.sessions().size() == 0);
    }
    SECTION("on") {
        Lb lb(sloppy_options(true));
        uint64_t created = 0;
        for (uint16_t port : {1001, 1002, 1003}) {
            INFO("port " << port);
            // A client port per service: NAT replies (RIP:80 -> client) must not collide.
            const uint16_t cport = uint16_t(40000 + port);
            const FrameSpec seg = client_packet(cport, Net::vip, port, ACK | PSH, pkt::proto_tcp, 10);
            fwd::Verdict v = send_spec(lb, seg);
            INFO("dropped for " << to_string(v.reason));
            REQUIRE(v.action == Action::forward);
            CHECK(lb.fwd.counters().sloppy_tcp_created.get() == ++created);
            const Session* s = lb.session(Net::client, cport, Net::vip, port);
            REQUIRE(s);
            CHECK(s->state == SessionState::tcp_established);
            CHECK((s->flags & session_active));
            const RealCounters& rc = lb.real(pkt::proto_tcp, Net::vip, port, v.route_to);
            CHECK(rc.active.get() == 1);
            CHECK(rc.inactive.get() == 0);
            // The next segment is the session's: forwarded to the same server, nothing new.
            fwd::Verdict again = send_spec(lb, seg);
            CHECK(again.action == Action::forward);
            CHECK(again.route_to == v.route_to);
            CHECK(lb.fwd.counters().sloppy_tcp_created.get() == created);
            // A consistent scheduler picks that server again for the same client: what makes
            // a pickup land where the connection is.
            Lb other(sloppy_options(true));
            CHECK(send_spec(other, seg).route_to == v.route_to);
        }
        // rr is not consistent: dropped as without sloppy_tcp.
        expect_drop(lb, client_packet(41000, Net::vip, 1004, ACK | PSH, pkt::proto_tcp, 10), Net::client_port,
                    DropReason::tcp_no_session);
        // A reset never creates anything.
        expect_drop(lb, client_packet(42001, Net::vip, 1001, RST | ACK), Net::client_port, DropReason::tcp_no_session);
        CHECK(lb.fwd.counters().sloppy_tcp_created.get() == 3);
        CHECK(lb.fwd.counters().sessions_created.get() == 3);
        // Ownership comes first: a VIP not held picks nothing up.
        const OwnedAddresses none = build_owned({}, *lb.snap, lb.laddrs);
        lb.fwd.set_owned(&none);
        expect_drop(lb, client_packet(42002, Net::vip, 1001, ACK), Net::client_port, DropReason::vip_not_owned);
        CHECK(lb.fwd.counters().sloppy_tcp_created.get() == 3);
    }
}
