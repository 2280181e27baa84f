// The exception path's classifier and token bucket (dataplane/forward/exception.hpp), on
// crafted frames and a snapshot built by the SnapshotBuilder: which frames go up to a
// port's kernel twin and in which class, who answers ARP for a twin port's addresses, and
// the rate limit.
#include "catch_print.hpp"
#include "dataplane/config/snapshot_builder.hpp"
#include "dataplane/forward/exception.hpp"
#include "dataplane/forward/forwarder.hpp"
#include "test_config.hpp"

using namespace dplb;
using namespace dplb::test;
using config::ForwardMethod;
using config::Protocol;
using config::Scheduler;
using fwd::ArpException;
using fwd::ExceptionClass;

namespace {

// Port 0 has a twin (interface addresses 192.0.2.1 and 192.0.2.2, the latter also a VIP);
// port 1 has none.
struct TwinFixture {
    TwinFixture() : laddrs(1, 1024, 65535), builder(1, ports(), {}, laddrs) {
        config::Config c;
        c.services = {
            service(Protocol::tcp, "192.0.2.100", 80, Scheduler::rr, {real("10.0.0.11", 8080, ForwardMethod::nat)}),
            service(Protocol::tcp, "192.0.2.2", 443, Scheduler::rr, {real("10.0.0.12", 443)}, {"10.0.0.200"}),
        };
        auto r = builder.build(c, 1);
        if (!r) FAIL("build failed: " << r.error().str());
        snap = std::move(*r);
    }
    static std::vector<PortSnap> ports() {
        std::vector<PortSnap> p{port_with(0x10, {"192.0.2.1/24", "192.0.2.2/24"}), port_with(0x11, {"10.0.0.1/24"})};
        p[0].twin = true;
        return p;
    }
    ExceptionClass classify(const FrameSpec& s, uint16_t port = 0) {
        frame = build_frame(s);
        pkt::ParsedIpv4 p;
        REQUIRE(pkt::parse_ipv4(frame.data(), uint32_t(frame.size()), true, p) == DropReason::none);
        return fwd::classify_ipv4_exception(p, *snap, port);
    }
    ArpException classify_arp(const ArpSpec& s, uint16_t port = 0) {
        frame = build_arp(s);
        return fwd::classify_arp_exception(frame.data(), uint32_t(frame.size()), *snap, port);
    }

    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    std::unique_ptr<Snapshot> snap;
    Bytes frame;
};

FrameSpec ip_spec(uint8_t proto, const char* dst, uint16_t sport = 0, uint16_t dport = 0) {
    FrameSpec s;
    s.proto = proto;
    s.saddr = ip("192.0.2.50");
    s.daddr = ip(dst);
    s.sport = sport;
    s.dport = dport;
    s.payload = payload_of(20);
    return s;
}

}  // namespace

TEST_CASE("exception classifier: what goes up to a port's kernel twin, and in which class", "[exception]") {
    TwinFixture f;
    struct Case {
        const char* what;
        FrameSpec spec;
        ExceptionClass want;
    };
    FrameSpec vrrp = ip_spec(fwd::proto_vrrp, "224.0.0.18");
    vrrp.ttl = 255;
    const Case cases[] = {
        {"VRRP to 224.0.0.18", vrrp, ExceptionClass::control},
        {"VRRP unicast to a peer", ip_spec(fwd::proto_vrrp, "192.0.2.3"), ExceptionClass::control},
        {"IGMP", ip_spec(fwd::proto_igmp, "224.0.0.22"), ExceptionClass::control},
        {"UDP multicast (mDNS)", ip_spec(pkt::proto_udp, "224.0.0.251", 5353, 5353), ExceptionClass::other},
        {"UDP limited broadcast", ip_spec(pkt::proto_udp, "255.255.255.255", 68, 67), ExceptionClass::other},
        {"UDP directed broadcast of the port's subnet", ip_spec(pkt::proto_udp, "192.0.2.255", 137, 137),
         ExceptionClass::other},
        {"ICMP echo to the twin's address", ip_spec(pkt::proto_icmp, "192.0.2.1"), ExceptionClass::other},
        {"TCP ssh to the twin's address", ip_spec(pkt::proto_tcp, "192.0.2.1", 40000, 22), ExceptionClass::other},
        {"UDP to the twin's address", ip_spec(pkt::proto_udp, "192.0.2.1", 40000, 9), ExceptionClass::other},
        {"BGP to the twin (dport 179)", ip_spec(pkt::proto_tcp, "192.0.2.1", 40000, 179), ExceptionClass::control},
        {"BGP from a peer's 179", ip_spec(pkt::proto_tcp, "192.0.2.1", 179, 40000), ExceptionClass::control},
        {"TCP to a VIP", ip_spec(pkt::proto_tcp, "192.0.2.100", 40000, 80), ExceptionClass::none},
        {"an interface address that is also a VIP stays the dataplane's",
         ip_spec(pkt::proto_tcp, "192.0.2.2", 40000, 443), ExceptionClass::none},
        {"ICMP to that VIP too", ip_spec(pkt::proto_icmp, "192.0.2.2"), ExceptionClass::none},
        {"UDP to an unknown address", ip_spec(pkt::proto_udp, "192.0.2.77", 1, 2), ExceptionClass::none},
        {"a FULLNAT local address", ip_spec(pkt::proto_tcp, "10.0.0.200", 443, 1024), ExceptionClass::none},
        {"another port's interface address", ip_spec(pkt::proto_icmp, "10.0.0.1"), ExceptionClass::none},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(f.classify(c.spec, 0) == c.want);
        // A port without a twin sends nothing up: today's behaviour.
        CHECK(f.classify(c.spec, 1) == ExceptionClass::none);
    }
    CHECK(f.classify(vrrp, 7) == ExceptionClass::none);  // no such port
}

TEST_CASE("exception classifier: ARP on a twin port", "[exception]") {
    TwinFixture f;
    ArpSpec req;
    req.spa = ip("192.0.2.50");
    req.tpa = ip("192.0.2.1");
    CHECK(f.classify_arp(req) == ArpException::up);       // the kernel's address: it answers
    CHECK(f.classify_arp(req, 1) == ArpException::none);  // no twin on port 1
    ArpSpec vip = req;
    vip.tpa = ip("192.0.2.100");
    CHECK(f.classify_arp(vip) == ArpException::none);
    ArpSpec shared = req;
    shared.tpa = ip("192.0.2.2");  // interface address and VIP: the dataplane's
    CHECK(f.classify_arp(shared) == ArpException::none);
    ArpSpec other = req;
    other.tpa = ip("192.0.2.77");
    CHECK(f.classify_arp(other) == ArpException::none);
    ArpSpec reply = req;
    reply.op = 2;
    reply.eth_dst = mac(0x10);
    CHECK(f.classify_arp(reply) == ArpException::copy_up);  // both learn from it
    CHECK(f.classify_arp(reply, 1) == ArpException::none);
    ArpSpec garp = req;
    garp.tpa = garp.spa;
    CHECK(f.classify_arp(garp) == ArpException::copy_up);
    ArpSpec bad = req;
    bad.plen = 16;
    CHECK(f.classify_arp(bad) == ArpException::none);  // left to the forwarder, which counts it
}

TEST_CASE("a twin port's interface addresses: ARP answered by the kernel, not the dataplane", "[exception]") {
    TwinFixture f;
    const LocalAddressInfo* own = f.snap->find_local(ip("192.0.2.1"));
    REQUIRE(own);
    CHECK((own->kinds & local_interface));
    CHECK(own->arp_ports == 0);
    const LocalAddressInfo* shared = f.snap->find_local(ip("192.0.2.2"));
    REQUIRE(shared);
    CHECK((shared->arp_ports & 1u));  // also a VIP: the dataplane answers
    const LocalAddressInfo* other = f.snap->find_local(ip("10.0.0.1"));
    REQUIRE(other);
    CHECK(other->arp_ports == 2u);  // port 1 has no twin: as before

    fwd::Forwarder fw(fwd::ForwarderParams{}, f.laddrs, 0);
    ArpSpec req;
    req.spa = ip("192.0.2.50");
    req.tpa = ip("192.0.2.1");
    Bytes frame = build_arp(req);
    CHECK(fw.handle_arp(frame.data(), uint32_t(frame.size()), 0, *f.snap).action == fwd::Verdict::Action::drop);
    req.tpa = ip("192.0.2.2");
    frame = build_arp(req);
    CHECK(fw.handle_arp(frame.data(), uint32_t(frame.size()), 0, *f.snap).action == fwd::Verdict::Action::reply);
}

TEST_CASE("TokenBucket: rate, burst, refill, unlimited, clock wrap", "[exception]") {
    fwd::TokenBucket b(1000, 16, 0);  // 1 packet per ms, 16 at once
    for (int i = 0; i < 16; ++i) CHECK(b.take(0));
    CHECK_FALSE(b.take(0));
    CHECK(b.take(1));
    CHECK_FALSE(b.take(1));
    unsigned got = 0;
    for (int i = 0; i < 100; ++i) got += b.take(10000);  // long idle: the burst, no more
    CHECK(got == 16);

    fwd::TokenBucket slow(10, 1, 0);  // one packet per 100 ms
    CHECK(slow.take(0));
    CHECK_FALSE(slow.take(50));
    CHECK_FALSE(slow.take(99));
    CHECK(slow.take(100));
    CHECK_FALSE(slow.take(100));

    fwd::TokenBucket unlimited(0, 0, 0);
    for (int i = 0; i < 100000; ++i) REQUIRE(unlimited.take(0));

    const Tick near_wrap = Tick(0xffffffffu - 5);
    fwd::TokenBucket wrap(1000, 4, near_wrap);
    for (int i = 0; i < 4; ++i) CHECK(wrap.take(near_wrap));
    CHECK_FALSE(wrap.take(near_wrap));
    for (int i = 0; i < 4; ++i) CHECK(wrap.take(Tick(near_wrap + 10)));  // 10 ms later, across the wrap: full
    CHECK_FALSE(wrap.take(Tick(near_wrap + 10)));
    CHECK_FALSE(wrap.take(near_wrap));  // an older reading refills nothing

    CHECK(fwd::exception_burst(10000) == 1000);
    CHECK(fwd::exception_burst(50) == 16);
}
