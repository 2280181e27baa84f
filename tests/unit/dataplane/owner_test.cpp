// owner_of: which worker handles a packet, for every packet class.
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "dataplane/flow/owner.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

unsigned owner(const Lb& lb, const FrameSpec& s) {
    Bytes f = build_frame(s);
    pkt::ParsedIpv4 p;
    REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
    return owner_of(p, *lb.snap);
}

LbOptions workers(unsigned n) {
    LbOptions o;
    o.nworkers = n;
    return o;
}

}  // namespace

TEST_CASE("owner_of: a single worker handles everything where it lands", "[owner]") {
    Lb lb(workers(1));
    CHECK(owner(lb, client_packet(40000, Net::vip, 80, pkt::tcp_syn)) == any_worker);
    CHECK(owner(lb, server_packet(ip("10.0.0.11"), 8080, Net::lip, 1025, pkt::tcp_ack)) == any_worker);
    CHECK(owner(lb, server_packet(ip("10.0.0.21"), 443, Net::client, 40000, pkt::tcp_ack)) == any_worker);
}

TEST_CASE("client_owner: always a valid worker, and every worker gets clients", "[owner]") {
    std::mt19937 rng(5);
    for (unsigned n = 1; n <= 8; ++n) {
        std::vector<unsigned> hits(n, 0);
        for (int i = 0; i < 4000; ++i) {
            unsigned w = client_owner(uint32_t(rng()), uint16_t(rng()), n);
            REQUIRE(w < n);
            ++hits[w];
        }
        for (unsigned w = 0; w < n; ++w) {
            INFO("n " << n << " worker " << w);
            CHECK(hits[w] > 4000 / n / 2);
        }
    }
}

TEST_CASE("owner_of: client -> VIP depends only on the client's address and port", "[owner]") {
    Lb lb(workers(4));
    std::vector<unsigned> seen(4, 0);
    for (uint16_t cport = 30000; cport < 30400; ++cport) {
        const unsigned want = client_owner(Net::client, be16(cport), 4);
        ++seen[want];
        INFO("client port " << cport);
        // Whatever VIP, service, protocol or flags.
        REQUIRE(owner(lb, client_packet(cport, Net::vip, 80, pkt::tcp_syn)) == want);
        REQUIRE(owner(lb, client_packet(cport, Net::vip, 80, pkt::tcp_ack, pkt::proto_tcp, 100)) == want);
        REQUIRE(owner(lb, client_packet(cport, Net::vip, 443, pkt::tcp_syn)) == want);
        REQUIRE(owner(lb, client_packet(cport, Net::vip2, 443, pkt::tcp_syn)) == want);
        REQUIRE(owner(lb, client_packet(cport, Net::vip, 53, 0, pkt::proto_udp, 20)) == want);
    }
    for (unsigned w = 0; w < 4; ++w) CHECK(seen[w] > 50);  // the port does matter
    // Another client address moves some flows.
    unsigned moved = 0;
    for (uint16_t cport = 30000; cport < 30400; ++cport) {
        FrameSpec s = client_packet(cport, Net::vip, 80, pkt::tcp_syn);
        s.saddr = ip("198.51.100.8");
        moved += owner(lb, s) != client_owner(Net::client, be16(cport), 4);
    }
    CHECK(moved > 100);
}

TEST_CASE("owner_of: FULLNAT replies go to the worker that owns the local port", "[owner]") {
    for (unsigned n : {2u, 3u, 4u}) {
        Lb lb(workers(n));
        for (uint16_t lport = 1024; lport < 1100; ++lport) {
            INFO(n << " workers, lport " << lport);
            REQUIRE(owner(lb, server_packet(ip("10.0.0.11"), 8080, Net::lip, lport, pkt::tcp_ack)) == lport % n);
            REQUIRE(owner(lb, server_packet(ip("10.0.0.31"), 5353, Net::lip, lport, 0, pkt::proto_udp, 9)) == lport % n);
        }
    }
}

TEST_CASE("owner_of: a NAT reply has the owner of the client's request", "[owner]") {
    Lb lb(workers(4));
    for (uint16_t cport = 50000; cport < 50300; ++cport) {
        INFO("client port " << cport);
        const unsigned req = owner(lb, client_packet(cport, Net::vip, 443, pkt::tcp_syn));
        REQUIRE(req < 4);
        REQUIRE(owner(lb, server_packet(ip("10.0.0.21"), 443, Net::client, cport, pkt::tcp_syn | pkt::tcp_ack)) == req);
        REQUIRE(owner(lb, server_packet(ip("10.0.0.22"), 443, Net::client, cport, pkt::tcp_ack)) == req);
        const unsigned ureq = owner(lb, client_packet(cport, Net::vip, 5353, 0, pkt::proto_udp, 4));
        REQUIRE(owner(lb, server_packet(ip("10.0.0.41"), 5353, Net::client, cport, 0, pkt::proto_udp, 4)) == ureq);
    }
}

TEST_CASE("owner_of: everything else is handled where it lands", "[owner]") {
    Lb lb(workers(4));
    struct Case {
        const char* what;
        FrameSpec spec;
    };
    auto proto = [](FrameSpec s, uint8_t p) {
        s.proto = p;
        return s;
    };
    const Case cases[] = {
        {"ICMP to the VIP", proto(client_packet(1, Net::vip, 0, 0), pkt::proto_icmp)},
        {"ICMP from a NAT real server", proto(server_packet(ip("10.0.0.21"), 0, Net::client, 0, 0), pkt::proto_icmp)},
        {"GRE to the VIP", proto(client_packet(1, Net::vip, 0, 0), 47)},
        {"TCP to an unknown address", client_packet(40000, Net::unknown, 80, pkt::tcp_syn)},
        {"TCP to the VIP on a port without service", client_packet(40000, Net::vip, 81, pkt::tcp_syn)},
        {"UDP to a VIP port only TCP serves", client_packet(40000, Net::vip, 80, 0, pkt::proto_udp)},
        {"TCP to an interface address", client_packet(40000, Net::port0_addr, 22, pkt::tcp_syn)},
        {"UDP from a port of a TCP NAT real", server_packet(ip("10.0.0.21"), 443, Net::client, 40000, 0, pkt::proto_udp)},
        {"TCP from a NAT real's other port", server_packet(ip("10.0.0.21"), 444, Net::client, 40000, pkt::tcp_ack)},
        {"TCP from a FULLNAT real to a client", server_packet(ip("10.0.0.11"), 8080, Net::client, 40000, pkt::tcp_ack)},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(owner(lb, c.spec) == any_worker);
    }
}

TEST_CASE("owner_of: the service lookup is carried to the forwarder, in the same snapshot only", "[owner]") {
    Lb lb(workers(4));
    Bytes f = build_frame(client_packet(40000, Net::vip, 80, pkt::tcp_syn));
    pkt::ParsedIpv4 p;
    REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
    CHECK(p.service_seq == 0);
    owner_of(p, *lb.snap);
    CHECK(p.service == &lb.service(pkt::proto_tcp, Net::vip, 80));
    CHECK(p.service_seq == lb.snap->sequence);
    CHECK(lb.snap->sequence != 0);

    // Not a VIP: no service, and the forwarder is told so.
    Bytes g = build_frame(client_packet(40000, ip("198.51.100.77"), 80, pkt::tcp_syn));
    pkt::ParsedIpv4 q;
    REQUIRE(pkt::parse_ipv4(g.data(), uint32_t(g.size()), true, q) == DropReason::none);
    owner_of(q, *lb.snap);
    CHECK(q.service == nullptr);
    CHECK(q.service_seq == lb.snap->sequence);

    // parse_ipv4 forgets a carried lookup: a parsed struct reused for the next packet of a
    // burst must not inherit it.
    REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
    CHECK(p.service_seq == 0);
}

TEST_CASE("Forwarder: uses the carried service instead of a second lookup", "[owner][forwarder]") {
    Lb lb(workers(4));
    const ServiceSnap& web = lb.service(pkt::proto_tcp, Net::vip, 80);
    // A packet to a port with no service, carrying the web service as if owner_of() had
    // found it in this snapshot: a forwarder that used the carry schedules it to a web real
    // server; one that looked again would drop it (no_service).
    auto try_with = [&](uint64_t seq, uint16_t cport) {
        Bytes f = build_frame(client_packet(cport, Net::vip, 81, pkt::tcp_syn));
        pkt::ParsedIpv4 p;
        REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
        p.headroom = 0;
        p.service = &web;
        p.service_seq = seq;
        return lb.fwd.handle_ipv4(p, 0, *lb.snap, lb.now);
    };
    fwd::Verdict used = try_with(lb.snap->sequence, 40001);
    CHECK(used.action == fwd::Verdict::Action::forward);
    CHECK(lb.service_counters(pkt::proto_tcp, Net::vip, 80).conns.get() == 1);
    // A lookup carried from another snapshot is not used.
    fwd::Verdict stale = try_with(lb.snap->sequence + 1, 40002);
    CHECK(stale.action == fwd::Verdict::Action::drop);
    CHECK(stale.reason == DropReason::no_service);
}
