// DR and TUN forwarding on crafted packets. DR sends the client's frame on unchanged (the
// worker only re-addresses the Ethernet header); TUN wraps it in an IPIP header compared
// byte for byte with one built here from scratch, and turns packets that would not fit
// into ICMP "fragmentation needed". Replies bypass the load balancer in both modes, so the
// sessions index no reply key and follow IPVS's INPUT-ONLY state table.
#include "catch_print.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using N = DrTunNet;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack, FIN = pkt::tcp_fin, PSH = pkt::tcp_psh;
constexpr uint8_t TCP = pkt::proto_tcp, UDP = pkt::proto_udp;

// Sends `in` from the client; requires exactly the same frame to leave toward `rip`.
void routed_unchanged(Lb& lb, const FrameSpec& in, uint32_t rip) {
    const Bytes f = build_frame(in);
    const Bytes out = expect_forward(lb, f, Net::client_port, rip);
    INFO(describe_difference(out, f));
    CHECK(out == f);
    CHECK(lb.moved_back == 0);
}

uint16_t outer_id(const Bytes& f) { return be16(ip_of(f).id_be); }

// Sends `in` from the client; requires its IPIP encapsulation toward `rip` from `source`:
// byte for byte as ipip_frame() builds it, and field by field. Returns the outer IP id.
uint16_t tunneled(Lb& lb, const FrameSpec& in, uint32_t rip, uint32_t source) {
    const Bytes f = build_frame(in);
    const Bytes out = expect_forward(lb, f, Net::client_port, rip);
    CHECK(lb.moved_back == 20);
    CHECK(lb.headroom_left == lb.opts.headroom - 20);
    const Bytes inner = ip_packet_of(f);
    REQUIRE(out.size() == pkt::l3_offset + 20 + inner.size());
    const Bytes want = ipip_frame(f, source, rip, outer_id(out));
    INFO(describe_difference(out, want));
    CHECK(out == want);

    CHECK(eth_of(out).dst == eth_of(f).dst);
    CHECK(eth_of(out).src == eth_of(f).src);
    CHECK(eth_of(out).type_be == pkt::ethertype_ipv4_be);
    const pkt::Ipv4Hdr& o = ip_of(out);
    CHECK(o.version_ihl == 0x45);
    CHECK(o.tos == in.tos);
    CHECK(be16(o.total_length_be) == inner.size() + 20);
    CHECK(be16(o.frag_be) == (in.frag & 0x4000));  // DF copied, nothing else
    CHECK(o.ttl == in.ttl);
    CHECK(o.protocol == 4);
    CHECK(o.saddr == source);
    CHECK(o.daddr == rip);
    const Checksums c = recompute_checksums(out);
    CHECK(c.ip_stored == c.ip_computed);
    CHECK(Bytes(out.begin() + pkt::l3_offset + 20, out.end()) == inner);
    return outer_id(out);
}

// The ICMP "fragmentation needed" the load balancer must send the client for `in` (a frame
// from the client to `vip`) when `mtu` is what is left for it: from the VIP, quoting the
// IP header and 8 bytes; the Ethernet header is the worker's to fill.
Bytes frag_needed_for(const FrameSpec& in, uint32_t vip, uint16_t mtu) {
    const Bytes f = build_frame(in);
    FrameSpec e = icmp_error_spec(vip, in.saddr, pkt::icmp_dest_unreachable, pkt::icmp_code_frag_needed,
                                  ip_packet_of(f, 20 + in.ip_options.size() + 8), mtu);
    e.src_mac = in.src_mac;
    e.dst_mac = in.dst_mac;
    e.ttl = 64;
    e.ip_id = 0;
    return build_frame(e);
}

struct Gauges {
    uint64_t active, inactive;
    bool operator==(const Gauges&) const = default;
};
Gauges gauges(const RealCounters& r) { return {r.active.get(), r.inactive.get()}; }

}  // namespace

TEST_CASE("DR: the client's frame leaves unchanged toward the real server; INPUT-ONLY states", "[dr]") {
    Lb lb(dr_tun_options());
    const RealCounters& d1 = lb.real(TCP, Net::vip, 80, N::d1);

    FrameSpec syn = client_packet(40000, Net::vip, 80, SYN);
    syn.tcp_options = tcp_options_mss_sack_ts();
    routed_unchanged(lb, syn, N::d1);
    const Session* s = lb.session(Net::client, 40000, Net::vip, 80);
    REQUIRE(s);
    CHECK(s->mode() == ForwardMode::dr);
    CHECK((s->flags & session_input_only) != 0);
    CHECK((s->flags & session_reply_indexed) == 0);
    CHECK(s->reply == FlowKey(N::d1, Net::client, be16(80), be16(40000), TCP));
    CHECK(s->state == SessionState::tcp_syn_recv);
    CHECK(s->expires == lb.now + 60000);
    CHECK(gauges(d1) == Gauges{0, 1});
    // The reply key is not indexed: a packet from the real server to the client matches
    // nothing (it should never reach us), whatever source the server uses.
    CHECK(lb.session(N::d1, 80, Net::client, 40000) == nullptr);
    expect_drop(lb, server_packet(N::d1, 80, Net::client, 40000, SYN | ACK), Net::server_port,
                DropReason::not_for_us);
    expect_drop(lb, server_packet(Net::vip, 80, Net::client, 40000, SYN | ACK), Net::server_port,
                DropReason::not_for_us);
    CHECK(s->state == SessionState::tcp_syn_recv);

    // The client's ACK alone establishes it (no SYN-ACK is ever seen).
    lb.now += 5;
    routed_unchanged(lb, client_packet(40000, Net::vip, 80, ACK), N::d1);
    CHECK(s->state == SessionState::tcp_established);
    CHECK(s->expires == lb.now + 900000);
    CHECK(gauges(d1) == Gauges{1, 0});

    // Data, even with TTL 2: nothing is rewritten, TTL and checksums included.
    FrameSpec data = client_packet(40000, Net::vip, 80, ACK | PSH, TCP, 700);
    data.ttl = 2;
    data.ip_options = ip_options_of_words(2);
    routed_unchanged(lb, data, N::d1);
    // FIN in the INPUT-ONLY table: ESTABLISHED -> FIN_WAIT, inactive again.
    routed_unchanged(lb, client_packet(40000, Net::vip, 80, FIN | ACK), N::d1);
    CHECK(s->state == SessionState::tcp_fin_wait);
    CHECK(gauges(d1) == Gauges{0, 1});
    CHECK(d1.in_packets.get() == 4);
    CHECK(d1.in_bytes.get() == 60 + 40 + 748 + 40);
    CHECK(d1.out_packets.get() == 0);

    // The next connection goes to D2 (rr), also unchanged.
    routed_unchanged(lb, client_packet(40001, Net::vip, 80, SYN), N::d2);
    const Session* s2 = lb.session(Net::client, 40001, Net::vip, 80);
    REQUIRE(s2);
    CHECK(s2->reply == FlowKey(N::d2, Net::client, be16(80), be16(40001), TCP));
    CHECK(lb.fwd.sessions().size() == 2);
}

TEST_CASE("DR and NAT real servers of port 0 keep the port the client asked for", "[dr]") {
    Lb lb(dr_tun_options());
    uint16_t cport = 41000;
    for (uint16_t port : {uint16_t(1), uint16_t(80), uint16_t(8443), uint16_t(65535)}) {
        INFO("port " << port);
        routed_unchanged(lb, client_packet(++cport, Net::vip2, port, SYN), N::d1);
        const Session* s = lb.session(Net::client, cport, Net::vip2, port);
        REQUIRE(s);
        CHECK(s->reply == FlowKey(N::d1, Net::client, be16(port), be16(cport), TCP));

        // UDP VIP2:port, NAT to N1:port and back.
        FrameSpec q = client_packet(cport, Net::vip2, port, 0, UDP, 21);
        Bytes out = expect_forward(lb, q, Net::client_port, N::n1);
        CHECK(out == build_frame(rewritten(q, Net::client, cport, N::n1, port)));
        FrameSpec r = server_packet(N::n1, port, Net::client, cport, 0, UDP, 40);
        Bytes back = expect_forward(lb, r, Net::server_port, Net::client);
        CHECK(back == build_frame(rewritten(r, Net::vip2, port, Net::client, cport)));
        check_checksums(back);
    }
}

TEST_CASE("TUN: IPIP encapsulation golden packets (TOS, DF, TTL, options, padding)", "[tun]") {
    struct Content {
        const char* what;
        void (*apply)(FrameSpec&);
    };
    const Content contents[] = {
        {"plain SYN, DF clear", [](FrameSpec&) {}},
        {"DF set, TOS 0xb8, TTL 17, TCP options",
         [](FrameSpec& s) {
             s.frag = 0x4000;
             s.tos = 0xb8;
             s.ttl = 17;
             s.tcp_options = tcp_options_mss_sack_ts();
         }},
        {"IP options (12 B), odd payload (101 B), TOS 0x02",
         [](FrameSpec& s) {
             s.ip_options = ip_options_of_words(3);
             s.payload = payload_of(101);
             s.tos = 0x02;
         }},
        {"18 B of Ethernet padding (dropped), TTL 2 kept in the outer header", [](FrameSpec& s) {
             s.eth_padding = 18;
             s.ttl = 2;
         }},
    };
    for (const auto& k : contents) {
        INFO(k.what);
        Lb lb(dr_tun_options());
        FrameSpec syn = client_packet(42000, Net::vip, 443, SYN);
        k.apply(syn);
        const uint16_t id = tunneled(lb, syn, N::t1, N::t1_source);
        const Session* s = lb.session(Net::client, 42000, Net::vip, 443);
        REQUIRE(s);
        CHECK(s->mode() == ForwardMode::tunnel);
        CHECK((s->flags & session_input_only) != 0);
        CHECK((s->flags & session_reply_indexed) == 0);
        CHECK(s->reply == FlowKey(N::t1, Net::client, be16(443), be16(42000), TCP));
        CHECK(s->state == SessionState::tcp_syn_recv);

        // Later packets of the connection, and a connection to T2 (its own tunnel source):
        // the identification counts every outer header this worker builds.
        FrameSpec ack = client_packet(42000, Net::vip, 443, ACK, TCP, 33);
        k.apply(ack);
        ack.tcp_flags = ACK;
        CHECK(tunneled(lb, ack, N::t1, N::t1_source) == uint16_t(id + 1));
        CHECK(s->state == SessionState::tcp_established);
        CHECK(gauges(lb.real(TCP, Net::vip, 443, N::t1)) == Gauges{1, 0});
        FrameSpec other = client_packet(42001, Net::vip, 443, SYN);
        k.apply(other);
        CHECK(tunneled(lb, other, N::t2, N::t2_source) == uint16_t(id + 2));
        // Nothing the real servers send matches a session.
        CHECK(lb.session(N::t1, 443, Net::client, 42000) == nullptr);
        expect_drop(lb, server_packet(N::t1, 443, Net::client, 42000, ACK), Net::server_port, DropReason::not_for_us);
    }
}

TEST_CASE("TUN: UDP datagrams are encapsulated too", "[tun]") {
    Lb lb(dr_tun_options());
    FrameSpec q = client_packet(43000, Net::vip, 53, 0, UDP, 40);
    const uint16_t id = tunneled(lb, q, N::t1, N::t1_source);
    FrameSpec q2 = client_packet(43000, Net::vip, 53, 0, UDP, 3);
    q2.udp_no_checksum = true;
    CHECK(tunneled(lb, q2, N::t1, N::t1_source) == uint16_t(id + 1));
    const Session* s = lb.session(Net::client, 43000, Net::vip, 53, UDP);
    REQUIRE(s);
    CHECK(s->state == SessionState::udp);
    CHECK(lb.real(UDP, Net::vip, 53, N::t1).in_packets.get() == 2);
}

TEST_CASE("TUN: packets that would exceed the MTU once encapsulated", "[tun]") {
    // T1's port has MTU 1500, T2's 1400: 1480 and 1380 bytes of inner packet fit.
    struct Case {
        const char* what;
        bool to_t2;
        size_t ip_len;
        bool df;
        unsigned ip_option_words;
        enum { fits, frag_needed, dropped } outcome;
    };
    const Case cases[] = {
        {"T2, 1380 B, DF: fits exactly", true, 1380, true, 0, Case::fits},
        {"T2, 1381 B, DF: fragmentation needed, MTU 1380", true, 1381, true, 0, Case::frag_needed},
        {"T2, 1381 B, no DF: dropped", true, 1381, false, 0, Case::dropped},
        {"T2, 1400 B, DF, 12 B of IP options: the quote has them", true, 1400, true, 3, Case::frag_needed},
        {"T1, 1480 B, no DF: fits exactly", false, 1480, false, 0, Case::fits},
        {"T1, 1481 B, DF: fragmentation needed, MTU 1480", false, 1481, true, 0, Case::frag_needed},
        {"T1, 1500 B, no DF: dropped", false, 1500, false, 0, Case::dropped},
    };
    for (const auto& k : cases) {
        INFO(k.what);
        Lb lb(dr_tun_options());
        tunneled(lb, client_packet(44000, Net::vip, 443, SYN), N::t1, N::t1_source);
        tunneled(lb, client_packet(44001, Net::vip, 443, SYN), N::t2, N::t2_source);
        const uint16_t cport = k.to_t2 ? 44001 : 44000;
        const uint32_t rip = k.to_t2 ? N::t2 : N::t1;
        FrameSpec big = client_packet(cport, Net::vip, 443, ACK | PSH);
        big.ip_options = ip_options_of_words(k.ip_option_words);
        big.payload = payload_of(k.ip_len - 40 - big.ip_options.size());
        big.frag = k.df ? 0x4000 : 0;
        big.tos = 0x10;
        REQUIRE(build_frame(big).size() == pkt::l3_offset + k.ip_len);
        const RealCounters& rc = lb.real(TCP, Net::vip, 443, rip);
        const uint64_t in_before = rc.in_packets.get();
        switch (k.outcome) {
        case Case::fits:
            tunneled(lb, big, rip, k.to_t2 ? N::t2_source : N::t1_source);
            break;
        case Case::frag_needed: {
            const Bytes out = expect_forward(lb, big, Net::client_port, Net::client);
            const Bytes want = frag_needed_for(big, Net::vip, uint16_t((k.to_t2 ? N::t2_mtu : N::t1_mtu) - 20));
            INFO(describe_difference(out, want));
            CHECK(out == want);
            check_checksums(out);
            CHECK(lb.moved_back == 0);
            CHECK(icmp_of(out).type == 3);
            CHECK(icmp_of(out).code == 4);
            CHECK(be16(icmp_of(out).seq) == (k.to_t2 ? 1380 : 1480));
            CHECK(lb.fwd.counters().icmp_frag_needed_sent.get() == 1);
            break;
        }
        case Case::dropped:
            expect_drop(lb, big, Net::client_port, DropReason::tunnel_mtu_exceeded);
            break;
        }
        CHECK(rc.in_packets.get() == in_before + (k.outcome == Case::dropped ? 0 : 1));
        if (k.outcome != Case::frag_needed) CHECK(lb.fwd.counters().icmp_frag_needed_sent.get() == 0);
    }
}

TEST_CASE("TUN: a first UDP datagram too big with DF gets fragmentation needed, the next one goes", "[tun]") {
    Lb lb(dr_tun_options());
    FrameSpec big = client_packet(45000, Net::vip, 53, 0, UDP, 1481 - 28);
    big.frag = 0x4000;
    const Bytes out = expect_forward(lb, big, Net::client_port, Net::client);
    CHECK(out == frag_needed_for(big, Net::vip, 1480));
    check_checksums(out);
    // The client's smaller datagram goes to the same real server through the same session.
    FrameSpec small = client_packet(45000, Net::vip, 53, 0, UDP, 1480 - 28);
    small.frag = 0x4000;
    tunneled(lb, small, N::t1, N::t1_source);
    CHECK(lb.fwd.sessions().size() == 1);
}

TEST_CASE("TUN: without 20 bytes of headroom the packet is dropped untouched", "[tun]") {
    LbOptions o = dr_tun_options();
    o.headroom = 19;
    Lb lb(o);
    expect_drop(lb, client_packet(46000, Net::vip, 443, SYN), Net::client_port, DropReason::no_headroom);
    CHECK(lb.moved_back == 0);
    // Exactly 20 bytes are enough; the session chose T1 for the first SYN already.
    lb.opts.headroom = 20;
    tunneled(lb, client_packet(46000, Net::vip, 443, SYN), N::t1, N::t1_source);
    CHECK(lb.headroom_left == 0);
    // Headroom matters only for TUN: DR frames do not grow.
    lb.opts.headroom = 0;
    routed_unchanged(lb, client_packet(46001, Net::vip, 80, SYN), N::d1);
}

TEST_CASE("TUN: a server the health check removed keeps its tunnel (source, MTU) for its connections",
          "[tun][health]") {
    Lb lb(dr_tun_options());
    tunneled(lb, client_packet(45000, Net::vip, 443, SYN), N::t1, N::t1_source);
    tunneled(lb, client_packet(45001, Net::vip, 443, SYN), N::t2, N::t2_source);
    config::Config c = lb.opts.config;
    for (auto& s : c.services)
        if (s.key.port == 443) s.reals[1].health = config::RealHealth::removed;  // T2
    lb.reconfigure(c);
    // T2's connection goes on from T2's tunnel source, within T2's MTU (1400).
    tunneled(lb, client_packet(45001, Net::vip, 443, ACK), N::t2, N::t2_source);
    FrameSpec big = client_packet(45001, Net::vip, 443, ACK | PSH);
    big.payload = payload_of(1381 - 40);
    big.frag = 0x4000;
    const Bytes out = expect_forward(lb, big, Net::client_port, Net::client);
    CHECK(icmp_of(out).type == 3);
    CHECK(be16(icmp_of(out).seq) == 1380);
}
