// ICMP errors about sessions: an error about a packet the load balancer sent to one side is
// passed to the other side as if it were about that side's own packet (IPVS ip_vs_in_icmp /
// ip_vs_out_icmp). Every output is compared byte for byte with an error built from scratch
// around the packet the other side really sent, so the outer, quoted-IP, quoted-TCP/UDP
// and ICMP checksums are all checked against full recomputations.
#include <algorithm>

#include "catch_print.hpp"
#include "dataplane/flow/owner.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack;
constexpr uint8_t TCP = pkt::proto_tcp, UDP = pkt::proto_udp;
const uint32_t server_router = ip("10.0.0.254"), client_router = ip("198.51.100.1");

// The services of default_lb_config(), one per mode and protocol.
struct Mode {
    const char* what;
    uint8_t proto;
    uint16_t vport;
    uint16_t rport;
    bool fullnat;
};
const Mode modes[] = {
    {"FULLNAT TCP", TCP, 80, 8080, true},
    {"NAT TCP", TCP, 443, 443, false},
    {"FULLNAT UDP", UDP, 53, 5353, true},
    {"NAT UDP", UDP, 5353, 5353, false},
    {"NAT TCP translating ports", TCP, 4443, 8443, false},
    {"NAT UDP translating ports", UDP, 5300, 53, false},
};

struct ErrorKind {
    const char* what;
    uint8_t type, code;
    uint16_t mtu;
    bool from_router;  // sent by a router on the path rather than by the peer itself
};
const ErrorKind error_kinds[] = {
    {"port unreachable from the peer", pkt::icmp_dest_unreachable, 3, 0, false},
    {"fragmentation needed (MTU 1200) from a router", pkt::icmp_dest_unreachable, pkt::icmp_code_frag_needed, 1200,
     true},
    {"time exceeded from a router", pkt::icmp_time_exceeded, 0, 0, true},
};

enum class UdpSum { normal, none, computes_zero };
const UdpSum udp_sums[] = {UdpSum::normal, UdpSum::none, UdpSum::computes_zero};
const char* name(UdpSum u) { return u == UdpSum::normal ? "checksum" : u == UdpSum::none ? "no checksum" : "checksum 0xffff"; }

// A packet `s` with its UDP checksum made as `u` asks (TCP untouched).
FrameSpec with_sum(FrameSpec s, UdpSum u) {
    if (s.proto != UDP) return s;
    s.udp_no_checksum = u == UdpSum::none;
    if (u == UdpSum::computes_zero) s.payload = payload_for_zero_l4_checksum(s);
    return s;
}
FrameSpec minus_ttl(FrameSpec s) {
    s.ttl = uint8_t(s.ttl - 1);
    return s;
}

// One connection through the load balancer: what each side sent, and what it received.
struct Conn {
    uint32_t rip;                      // the real server rr chose
    FrameSpec from_client, to_server;  // the client's first packet, as sent and as forwarded
    FrameSpec from_server, to_client;  // the server's answer, as sent and as forwarded
};

Conn connect(Lb& lb, const Mode& m, uint16_t cport, UdpSum u) {
    Conn c;
    c.from_client = with_sum(client_packet(cport, Net::vip, m.vport, SYN, m.proto, 50), u);
    if (m.proto == TCP) c.from_client.tcp_options = tcp_options_mss_sack_ts();
    Bytes out = build_frame(c.from_client);
    const fwd::Verdict v = lb.send(out, Net::client_port);
    REQUIRE(v.action == fwd::Verdict::Action::forward);
    c.rip = v.route_to;
    lb.real_id(m.proto, Net::vip, m.vport, c.rip);  // one of the service's
    const uint32_t src = m.fullnat ? Net::lip : Net::client;
    const uint16_t sport = m.fullnat ? be16(m.proto == TCP ? tcp_of(out).sport : udp_of(out).sport) : cport;
    c.to_server = rewritten(c.from_client, src, sport, c.rip, m.rport);
    REQUIRE(out == build_frame(c.to_server));

    c.from_server = with_sum(server_packet(c.rip, m.rport, src, sport, SYN | ACK, m.proto, 32), u);
    c.to_client = rewritten(c.from_server, Net::vip, m.vport, Net::client, cport);
    REQUIRE(expect_forward(lb, c.from_server, Net::server_port, Net::client) == build_frame(c.to_client));
    return c;
}

// An ICMP error from `src` to `dst` quoting the first `quote` bytes of `about`'s IP packet.
FrameSpec error_about(const ErrorKind& e, uint32_t src, uint32_t dst, const FrameSpec& about, size_t quote) {
    FrameSpec s = icmp_error_spec(src, dst, e.type, e.code, ip_packet_of(build_frame(about), quote), e.mtu);
    s.ttl = 61;
    return s;
}

// The quoted packet of an ICMP error frame has a valid IP header checksum and, when it is
// quoted whole, valid TCP/UDP checksums (UDP 0 = none accepted).
void check_quote(const Bytes& icmp_frame, bool whole) {
    const size_t at = l4_offset_of(icmp_frame) + 8;
    REQUIRE(icmp_frame.size() > at);
    Bytes inner(pkt::l3_offset + icmp_frame.size() - at, 0);  // a zero Ethernet header, then the quote
    std::copy(icmp_frame.begin() + long(at), icmp_frame.end(), inner.begin() + pkt::l3_offset);
    const Checksums c = recompute_checksums(inner);
    CHECK(c.ip_stored == c.ip_computed);
    if (whole) check_checksums(inner, true);
}

constexpr size_t rfc792_quote = 20 + 8;  // the IP header and 8 bytes of its payload

}  // namespace

TEST_CASE("ICMP errors from the real server's side reach the client about its own packet", "[icmp]") {
    for (const auto& m : modes)
        for (UdpSum u : udp_sums) {
            if (m.proto == TCP && u != UdpSum::normal) continue;
            for (const auto& e : error_kinds)
                for (bool whole : {true, false}) {
                    INFO(m.what << " / " << name(u) << " / " << e.what << (whole ? " / whole quote" : " / 8 B"));
                    Lb lb;
                    const Conn c = connect(lb, m, 40000, u);
                    const size_t quote = whole ? SIZE_MAX : rfc792_quote;
                    FrameSpec in = error_about(e, e.from_router ? server_router : c.rip, c.to_server.saddr,
                                               c.to_server, quote);
                    in.src_mac = Net::server_mac;
                    in.dst_mac = Net::port1_mac;
                    // The client gets it from the VIP, about what it sent (TTL as it arrived).
                    FrameSpec want = error_about(e, Net::vip, Net::client, minus_ttl(c.from_client), quote);
                    want.src_mac = in.src_mac;
                    want.dst_mac = in.dst_mac;
                    want.ttl = uint8_t(in.ttl - 1);
                    const Bytes out = expect_forward(lb, in, Net::server_port, Net::client);
                    const Bytes w = build_frame(want);
                    INFO(describe_difference(out, w));
                    CHECK(out == w);
                    check_checksums(out);
                    check_quote(out, whole);
                    CHECK(lb.fwd.counters().icmp_errors_forwarded.get() == 1);
                }
        }
}

TEST_CASE("ICMP errors from the client's side reach the real server about its own packet", "[icmp]") {
    for (const auto& m : modes)
        for (UdpSum u : udp_sums) {
            if (m.proto == TCP && u != UdpSum::normal) continue;
            for (const auto& e : error_kinds)
                for (bool whole : {true, false}) {
                    INFO(m.what << " / " << name(u) << " / " << e.what << (whole ? " / whole quote" : " / 8 B"));
                    Lb lb;
                    const Conn c = connect(lb, m, 40000, u);
                    const size_t quote = whole ? SIZE_MAX : rfc792_quote;
                    FrameSpec in = error_about(e, e.from_router ? client_router : Net::client, Net::vip, c.to_client,
                                               quote);
                    in.src_mac = Net::client_gw_mac;
                    in.dst_mac = Net::port0_mac;
                    // The server gets it from the address it talks to (FULLNAT: the local
                    // address; NAT: the client), about what it sent.
                    FrameSpec want =
                        error_about(e, c.from_server.daddr, c.rip, minus_ttl(c.from_server), quote);
                    want.src_mac = in.src_mac;
                    want.dst_mac = in.dst_mac;
                    want.ttl = uint8_t(in.ttl - 1);
                    const Bytes out = expect_forward(lb, in, Net::client_port, c.rip);
                    const Bytes w = build_frame(want);
                    INFO(describe_difference(out, w));
                    CHECK(out == w);
                    check_checksums(out);
                    check_quote(out, whole);
                    CHECK(ip_of(out).saddr == (m.fullnat ? Net::lip : Net::client));
                }
        }
}

TEST_CASE("ICMP errors: IP options in the quoted packet, and TTL exhausted", "[icmp]") {
    for (const auto& m : modes) {
        INFO(m.what);
        Lb lb;
        Conn c = connect(lb, m, 41000, UdpSum::normal);
        // A later client packet with IP options, quoted back by the real server.
        FrameSpec opt = client_packet(41000, Net::vip, m.vport, ACK, m.proto, 9);
        opt.ip_options = ip_options_of_words(4);
        const Bytes sent = expect_forward(lb, opt, Net::client_port, c.rip);
        FrameSpec sent_spec = rewritten(opt, c.to_server.saddr, c.to_server.sport, c.rip, m.rport);
        REQUIRE(sent == build_frame(sent_spec));
        const ErrorKind& e = error_kinds[0];
        FrameSpec in = error_about(e, c.rip, sent_spec.saddr, sent_spec, 36 + 8);
        FrameSpec want = error_about(e, Net::vip, Net::client, minus_ttl(opt), 36 + 8);
        want.ttl = uint8_t(in.ttl - 1);
        const Bytes out = expect_forward(lb, in, Net::server_port, Net::client);
        CHECK(out == build_frame(want));
        check_quote(out, false);

        // TTL 1: dropped as it is, in both directions.
        FrameSpec late = error_about(e, c.rip, c.to_server.saddr, c.to_server, SIZE_MAX);
        late.ttl = 1;
        expect_drop(lb, late, Net::server_port, DropReason::ip_ttl_exceeded);
        FrameSpec late2 = error_about(e, Net::client, Net::vip, c.to_client, SIZE_MAX);
        late2.ttl = 1;
        expect_drop(lb, late2, Net::client_port, DropReason::ip_ttl_exceeded);
        CHECK(lb.fwd.counters().icmp_errors_forwarded.get() == 1);
    }
}

TEST_CASE("ICMP errors about packets of no session are dropped", "[icmp]") {
    Lb lb;
    const Conn fn = connect(lb, modes[0], 42000, UdpSum::normal);  // FULLNAT TCP
    const Conn nat = connect(lb, modes[1], 42001, UdpSum::normal);  // NAT TCP
    const ErrorKind& e = error_kinds[0];
    auto with_ports = [](FrameSpec s, uint16_t sport, uint16_t dport) {
        s.sport = sport;
        s.dport = dport;
        return s;
    };
    auto as_udp = [](FrameSpec s) {
        s.proto = UDP;
        s.tcp_options.clear();
        return s;
    };
    struct Case {
        const char* what;
        FrameSpec error;
        uint16_t port;
    };
    const Case cases[] = {
        {"about a local port nobody holds",
         error_about(e, fn.to_server.daddr, Net::lip, with_ports(fn.to_server, 9999, 8080), SIZE_MAX), 1},
        {"about another client port to a NAT server",
         error_about(e, nat.to_server.daddr, Net::client, with_ports(nat.to_server, 42999, 443), SIZE_MAX), 1},
        {"about a VIP packet to a client port with no session",
         error_about(e, Net::client, Net::vip, with_ports(fn.to_client, 80, 1), SIZE_MAX), 0},
        {"about UDP with the tuple of a TCP session", error_about(e, Net::client, Net::vip, as_udp(fn.to_client), SIZE_MAX),
         0},
        {"about the client's packet as it reached us (we never sent it)",
         error_about(e, Net::client, Net::vip, fn.from_client, SIZE_MAX), 0},
        {"about the server's packet as it reached us (we never sent it)",
         error_about(e, nat.from_server.saddr, Net::client, nat.from_server, SIZE_MAX), 1},
    };
    for (const auto& k : cases) {
        INFO(k.what);
        expect_drop(lb, k.error, k.port, DropReason::icmp_no_session);
    }
    CHECK(lb.fwd.counters().icmp_errors_forwarded.get() == 0);
}

TEST_CASE("ICMP messages that are not errors about a session's packet are not treated as such", "[icmp]") {
    Lb lb;
    const Conn fn = connect(lb, modes[0], 43000, UdpSum::normal);
    const Conn nat = connect(lb, modes[1], 43001, UdpSum::normal);
    const ErrorKind& e = error_kinds[0];
    FrameSpec echo = client_packet(1, Net::vip, 0, 0, pkt::proto_icmp, 8);
    struct Case {
        const char* what;
        FrameSpec error;
        uint16_t port;
        DropReason reason;
    };
    const Case cases[] = {
        // Fewer than 8 bytes of the quoted TCP header: no ports to find a session by.
        {"to the local address, 7 B of TCP quoted", error_about(e, fn.to_server.daddr, Net::lip, fn.to_server, 27), 1,
         DropReason::icmp_unsupported},
        {"to the VIP, 4 B of TCP quoted", error_about(e, Net::client, Net::vip, fn.to_client, 24), 0,
         DropReason::icmp_unsupported},
        {"to a NAT client, only the IP header quoted",
         error_about(e, nat.to_server.daddr, Net::client, nat.to_server, 20), 1, DropReason::not_for_us},
        {"to the VIP, quoting an ICMP echo", error_about(e, Net::client, Net::vip, echo, SIZE_MAX), 0,
         DropReason::icmp_unsupported},
        {"source quench (type 4), quoting a session's packet",
         error_about(ErrorKind{"", 4, 0, 0, false}, Net::client, Net::vip, fn.to_client, SIZE_MAX), 0,
         DropReason::icmp_unsupported},
    };
    const Session before = *lb.session(Net::client, 43000, Net::vip, 80);
    for (const auto& k : cases) {
        INFO(k.what);
        Bytes f = build_frame(k.error);
        pkt::ParsedIpv4 p;
        REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
        CHECK_FALSE(p.icmp_error);
        expect_drop(lb, k.error, k.port, k.reason);
    }
    const Session* after = lb.session(Net::client, 43000, Net::vip, 80);
    REQUIRE(after);
    CHECK(after->expires == before.expires);
    CHECK(after->state == before.state);
    CHECK(lb.fwd.counters().icmp_errors_forwarded.get() == 0);
}

TEST_CASE("ICMP errors are owned by the worker that owns the session they are about", "[icmp][owner]") {
    const ErrorKind& e = error_kinds[1];
    for (unsigned n : {2u, 4u})
        for (unsigned w = 0; w < n; ++w) {
            LbOptions o;
            o.nworkers = n;
            o.worker = w;
            Lb lb(o);
            unsigned checked = 0;
            for (uint16_t cport = 44000; checked < 12; ++cport) {
                const Mode& m = modes[cport % std::size(modes)];
                if (lb.owner(client_packet(cport, Net::vip, m.vport, SYN, m.proto)) != w) continue;
                INFO(n << " workers, worker " << w << ", " << m.what << ", client port " << cport);
                const Conn c = connect(lb, m, cport, UdpSum::normal);
                REQUIRE(lb.owner(c.from_server) == w);
                CHECK(lb.owner(error_about(e, server_router, c.to_server.saddr, c.to_server, SIZE_MAX)) == w);
                CHECK(lb.owner(error_about(e, client_router, Net::vip, c.to_client, 28)) == w);
                ++checked;
            }
        }
}

TEST_CASE("ICMP errors from the client's side of DR and TUN sessions go to the real server as they are",
          "[icmp][dr][tun]") {
    using N = DrTunNet;
    Lb lb(dr_tun_options());
    expect_forward(lb, client_packet(45000, Net::vip, 80, SYN), Net::client_port, N::d1);
    expect_forward(lb, client_packet(45001, Net::vip, 443, SYN), Net::client_port, N::t1);
    const ErrorKind& e = error_kinds[1];
    // The real servers answered from the VIP, directly; a router on the way to the client
    // sends its error to the VIP, which is ours.
    FrameSpec dr_reply = server_packet(Net::vip, 80, Net::client, 45000, SYN | ACK);
    const Bytes dr_error = build_frame(error_about(e, client_router, Net::vip, dr_reply, SIZE_MAX));
    const Bytes dr_out = expect_forward(lb, dr_error, Net::client_port, N::d1);
    INFO(describe_difference(dr_out, dr_error));
    CHECK(dr_out == dr_error);

    FrameSpec tun_reply = server_packet(Net::vip, 443, Net::client, 45001, SYN | ACK);
    const Bytes tun_error = build_frame(error_about(e, client_router, Net::vip, tun_reply, 28));
    const Bytes tun_out = expect_forward(lb, tun_error, Net::client_port, N::t1);
    const Bytes want = ipip_frame(tun_error, N::t1_source, N::t1, be16(ip_of(tun_out).id_be));
    INFO(describe_difference(tun_out, want));
    CHECK(tun_out == want);
    CHECK(lb.fwd.counters().icmp_errors_forwarded.get() == 2);
    // An error too big for T1's tunnel is dropped, never answered with another error.
    FrameSpec big_reply = server_packet(Net::vip, 443, Net::client, 45001, ACK, TCP, 1460);
    FrameSpec big = error_about(e, client_router, Net::vip, big_reply, SIZE_MAX);
    big.frag = 0x4000;
    expect_drop(lb, big, Net::client_port, DropReason::tunnel_mtu_exceeded);
    CHECK(lb.fwd.counters().icmp_frag_needed_sent.get() == 0);
    CHECK(lb.fwd.counters().icmp_errors_forwarded.get() == 2);
    // Both are owned like the sessions' packets.
    LbOptions o = dr_tun_options();
    o.nworkers = 4;
    Lb multi(o);
    for (uint16_t cport = 45000; cport < 45040; ++cport) {
        FrameSpec reply = server_packet(Net::vip, 443, Net::client, cport, ACK);
        CHECK(multi.owner(error_about(e, client_router, Net::vip, reply, 28)) ==
              multi.owner(client_packet(cport, Net::vip, 443, ACK)));
    }
}
