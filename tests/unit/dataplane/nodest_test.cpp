// Real servers that leave a service (docs/architecture.md, "Real servers that leave"), on
// crafted packets: by default their connections go on; with expire_nodest_conn a packet of
// such a connection ends it, and TCP gets a reset toward each end, compared byte for byte
// (checksums recomputed from scratch) with resets built here; client SYNs and UDP are
// scheduled anew.
#include "catch_print.hpp"
#include "dataplane/forward/tcp_reset.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using Action = fwd::Verdict::Action;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack, RST = pkt::tcp_rst, PSH = pkt::tcp_psh, FIN = pkt::tcp_fin;
constexpr uint8_t TCP = pkt::proto_tcp, UDP = pkt::proto_udp;
uint32_t be32(uint32_t host) { return __builtin_bswap32(host); }
const uint32_t RS1 = ip("10.0.0.11"), RS2 = ip("10.0.0.12"), RS3 = ip("10.0.0.21"), RS4 = ip("10.0.0.22"),
               RS5 = ip("10.0.0.31"), RS5B = ip("10.0.0.32"), RS6 = ip("10.0.0.41"), RS6B = ip("10.0.0.42");

// Indexes of default_lb_config()'s services.
constexpr size_t fullnat_tcp = 0, nat_tcp = 1, fullnat_udp = 3, nat_udp = 4;

// Sends `in` on `port`; requires a forward to `route_to`, returns the frame that leaves.
Bytes forward(Lb& lb, const FrameSpec& in, uint16_t port, uint32_t route_to, fwd::Verdict* verdict = nullptr) {
    Bytes f = build_frame(in);
    fwd::Verdict v = lb.send(f, port);
    INFO("dropped for " << to_string(v.reason));
    REQUIRE(v.action == Action::forward);
    CHECK(v.route_to == route_to);
    if (verdict) *verdict = v;
    return f;
}
void forward_exact(Lb& lb, const FrameSpec& in, uint16_t port, const FrameSpec& want) {
    Bytes got = forward(lb, in, port, want.daddr);
    const Bytes w = build_frame(want);
    INFO(describe_difference(got, w));
    CHECK(got == w);
    check_checksums(got);
}

struct Conn {
    uint16_t cport;
    uint32_t vip;
    uint16_t vport;
    uint32_t rip;
    uint16_t rport;
    uint16_t lport;  // FULLNAT; 0 for NAT
    uint32_t src() const { return lport ? Net::lip : Net::client; }      // what the server sees
    uint16_t sport() const { return lport ? lport : cport; }
};

// A client SYN to vip:vport; returns the connection it made (the server and, for FULLNAT, the
// local port, read from the frame that left).
Conn open(Lb& lb, uint16_t cport, uint32_t vip, uint16_t vport, uint32_t expect_rip, uint8_t proto = TCP) {
    FrameSpec syn = client_packet(cport, vip, vport, SYN, proto, proto == UDP ? 20 : 0);
    Bytes out = forward(lb, syn, Net::client_port, expect_rip);
    check_checksums(out);
    Conn c{cport, vip, vport, expect_rip, 0, 0};
    const bool fullnat = ip_of(out).saddr == Net::lip;
    const uint16_t sport = proto == TCP ? be16(tcp_of(out).sport) : be16(udp_of(out).sport);
    c.rport = proto == TCP ? be16(tcp_of(out).dport) : be16(udp_of(out).dport);
    c.lport = fullnat ? sport : 0;
    return c;
}

FrameSpec from_client(const Conn& c, uint8_t flags, uint8_t proto = TCP, size_t payload = 0) {
    return client_packet(c.cport, c.vip, c.vport, flags, proto, payload);
}
FrameSpec from_server(const Conn& c, uint8_t flags, uint8_t proto = TCP, size_t payload = 0) {
    return server_packet(c.rip, c.rport, c.src(), c.sport(), flags, proto, payload);
}
void client_to_server(Lb& lb, const Conn& c, uint8_t flags, size_t payload = 0) {
    FrameSpec in = from_client(c, flags, TCP, payload);
    forward_exact(lb, in, Net::client_port, rewritten(in, c.src(), c.sport(), c.rip, c.rport));
}
void server_to_client(Lb& lb, const Conn& c, uint8_t flags, size_t payload = 0) {
    FrameSpec in = from_server(c, flags, TCP, payload);
    forward_exact(lb, in, Net::server_port, rewritten(in, c.vip, c.vport, Net::client, c.cport));
}
void establish(Lb& lb, const Conn& c) {
    server_to_client(lb, c, SYN | ACK);
    client_to_server(lb, c, ACK);
}

const Session* session_of(const Lb& lb, const Conn& c, uint8_t proto = TCP) {
    return lb.session(Net::client, c.cport, c.vip, c.vport, proto);
}

// A reset as the load balancer builds it: no options, no payload, window 0, DF.
FrameSpec reset(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport, uint32_t seq, uint32_t ack,
                bool with_ack) {
    FrameSpec r;
    r.saddr = saddr;
    r.sport = sport;
    r.daddr = daddr;
    r.dport = dport;
    r.seq = seq;
    r.ack = with_ack ? ack : 0;
    r.tcp_flags = uint8_t(RST | (with_ack ? ACK : 0));
    r.window = 0;
    r.frag = 0x4000;
    return r;
}
// The reset that replaces `in` (same Ethernet header, TOS, id; TTL - 1 once rewritten).
FrameSpec reset_replacing(const FrameSpec& in, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport) {
    FrameSpec r = reset(saddr, sport, daddr, dport, in.seq, in.ack, in.tcp_flags & ACK);
    r.src_mac = in.src_mac;
    r.dst_mac = in.dst_mac;
    r.tos = in.tos;
    r.ip_id = in.ip_id;
    r.ttl = uint8_t(in.ttl - 1);
    return r;
}
// The reset built for the sender of `in`, with `payload` bytes: from what the sender talks to.
FrameSpec reset_to_sender(const FrameSpec& in, size_t payload, uint32_t saddr, uint16_t sport, uint32_t daddr,
                          uint16_t dport, uint16_t ip_id) {
    FrameSpec r = reset(saddr, sport, daddr, dport, in.ack, in.seq + uint32_t(payload), true);
    r.src_mac = pkt::Mac{};
    r.dst_mac = pkt::Mac{};
    r.ttl = 64;
    r.ip_id = ip_id;
    return r;
}
Bytes extra_of(const Lb& lb) {
    const fwd::ExtraPacket& x = lb.fwd.extra();
    return Bytes(x.frame, x.frame + x.len);
}
void check_frame(const Bytes& got, const FrameSpec& want) {
    const Bytes w = build_frame(want);
    INFO(describe_difference(got, w));
    CHECK(got == w);
    check_checksums(got);
}

config::Config with_flag(config::Config c, size_t svc, bool on = true) {
    c.services[svc].expire_nodest_conn = on;
    return c;
}
config::Config without_real(config::Config c, size_t svc, size_t real) {
    c.services[svc].reals.erase(c.services[svc].reals.begin() + long(real));
    return c;
}

// A trigger with sequence numbers that tell the two directions apart.
FrameSpec numbered(FrameSpec f, uint32_t seq, uint32_t ack) {
    f.seq = seq;
    f.ack = ack;
    f.tos = 0x28;
    f.ip_id = 0x4321;
    return f;
}

}  // namespace

TEST_CASE("Removed real server, expire_nodest_conn off: its connections keep forwarding both ways", "[nodest]") {
    Lb lb;
    Conn fn = open(lb, 51000, Net::vip, 80, RS1);
    Conn nat = open(lb, 51001, Net::vip, 443, RS3);
    establish(lb, fn);
    establish(lb, nat);
    config::Config cfg = without_real(without_real(default_lb_config(), fullnat_tcp, 0), nat_tcp, 0);
    lb.reconfigure(cfg);
    REQUIRE(lb.snap->flags_of(lb.service(TCP, Net::vip, 80).id) == 0);
    for (const Conn& c : {fn, nat}) {
        client_to_server(lb, c, ACK | PSH, 300);
        server_to_client(lb, c, ACK | PSH, 1200);
        CHECK(session_of(lb, c)->state == SessionState::tcp_established);
    }
    // A SYN on the established connection is not a new one: it goes on to the same server.
    client_to_server(lb, fn, SYN);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 0);
    CHECK(lb.fwd.counters().sessions_rescheduled.get() == 0);
    CHECK(lb.fwd.counters().nodest_resets.get() == 0);
    // A new client goes to the servers left.
    open(lb, 51002, Net::vip, 80, RS2);
    open(lb, 51003, Net::vip, 443, RS4);
}

TEST_CASE("expire_nodest_conn, FULLNAT: a client segment ends the session with a reset each way", "[nodest]") {
    Lb lb(LbOptions{.config = with_flag(default_lb_config(), fullnat_tcp)});
    Conn c = open(lb, 52000, Net::vip, 80, RS1);
    establish(lb, c);
    Conn other = open(lb, 52001, Net::vip, 80, RS2);
    REQUIRE(lb.lip_pool().in_use() == 2);
    const uint32_t rs1_id = lb.real_id(TCP, Net::vip, 80, RS1);
    lb.reconfigure(without_real(with_flag(default_lb_config(), fullnat_tcp), fullnat_tcp, 0));

    const FrameSpec in = numbered(from_client(c, ACK | PSH, TCP, 100), 0x11111111, 0x22222222);
    fwd::Verdict v;
    Bytes out = forward(lb, in, Net::client_port, RS1, &v);
    // Toward the server, from the local address and port: the client's sequence number.
    check_frame(out, reset_replacing(in, Net::lip, c.lport, RS1, 8080));
    CHECK(tcp_of(out).seq == be32(0x11111111));
    // Toward the client, from the VIP: the client's acknowledgment as sequence number.
    REQUIRE(v.extra);
    CHECK(lb.fwd.extra().route_to == Net::client);
    check_frame(extra_of(lb), reset_to_sender(in, 100, Net::vip, 80, Net::client, c.cport, 1));

    CHECK(session_of(lb, c) == nullptr);
    CHECK(lb.session(RS1, 8080, Net::lip, c.lport) == nullptr);
    CHECK(lb.lip_pool().in_use() == 1);  // the other connection's port only
    const RealCounters& gone = lb.fwd.real_counters()[rs1_id];
    CHECK(gone.live.get() == 0);
    CHECK(gone.active.get() == 0);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 1);
    CHECK(lb.fwd.counters().sessions_expired.get() == 1);
    CHECK(lb.fwd.counters().nodest_resets.get() == 2);
    // Its next segment finds no session; the other server's connection is untouched.
    Bytes again = build_frame(from_client(c, ACK));
    CHECK(lb.send(again, Net::client_port).reason == DropReason::tcp_no_session);
    client_to_server(lb, other, ACK);
}

TEST_CASE("expire_nodest_conn, FULLNAT: a server segment ends the session with a reset each way", "[nodest]") {
    Lb lb(LbOptions{.config = with_flag(default_lb_config(), fullnat_tcp)});
    Conn c = open(lb, 52100, Net::vip, 80, RS1);
    establish(lb, c);
    lb.reconfigure(without_real(with_flag(default_lb_config(), fullnat_tcp), fullnat_tcp, 0));

    const FrameSpec in = numbered(from_server(c, ACK | PSH, TCP, 50), 0x7000, 0x01020305);
    fwd::Verdict v;
    Bytes out = forward(lb, in, Net::server_port, Net::client, &v);
    check_frame(out, reset_replacing(in, Net::vip, 80, Net::client, c.cport));
    REQUIRE(v.extra);
    CHECK(lb.fwd.extra().route_to == RS1);
    check_frame(extra_of(lb), reset_to_sender(in, 50, Net::lip, c.lport, RS1, 8080, 1));
    CHECK(session_of(lb, c) == nullptr);
    CHECK(lb.lip_pool().in_use() == 0);
}

TEST_CASE("expire_nodest_conn, NAT: resets each way, the client's address toward the server", "[nodest]") {
    Lb lb(LbOptions{.config = with_flag(default_lb_config(), nat_tcp)});
    Conn a = open(lb, 52200, Net::vip, 443, RS3);
    establish(lb, a);
    lb.reconfigure(without_real(with_flag(default_lb_config(), nat_tcp), nat_tcp, 0));

    SECTION("from the client") {
        const FrameSpec in = numbered(from_client(a, ACK, TCP, 0), 0xfffffff0, 0x80000000);
        fwd::Verdict v;
        Bytes out = forward(lb, in, Net::client_port, RS3, &v);
        check_frame(out, reset_replacing(in, Net::client, a.cport, RS3, 443));
        REQUIRE(v.extra);
        check_frame(extra_of(lb), reset_to_sender(in, 0, Net::vip, 443, Net::client, a.cport, 1));
    }
    SECTION("from the server, a FIN: it takes one sequence number") {
        const FrameSpec in = numbered(from_server(a, FIN | ACK, TCP, 10), 0xfffffffa, 0x01020305);
        fwd::Verdict v;
        Bytes out = forward(lb, in, Net::server_port, Net::client, &v);
        check_frame(out, reset_replacing(in, Net::vip, 443, Net::client, a.cport));
        REQUIRE(v.extra);
        CHECK(lb.fwd.extra().route_to == RS3);
        // 0xfffffffa + 10 bytes + FIN wraps to 5.
        check_frame(extra_of(lb), reset_to_sender(in, 11, Net::client, a.cport, RS3, 443, 1));
        CHECK(tcp_of(extra_of(lb)).ack == be32(5));
    }
    SECTION("a reset from the client goes on as a reset, none comes back") {
        const FrameSpec in = numbered(from_client(a, RST, TCP, 0), 0x3000, 0);
        fwd::Verdict v;
        Bytes out = forward(lb, in, Net::client_port, RS3, &v);
        check_frame(out, reset_replacing(in, Net::client, a.cport, RS3, 443));
        CHECK_FALSE(v.extra);
        CHECK(lb.fwd.counters().nodest_resets.get() == 1);
    }
    CHECK(session_of(lb, a) == nullptr);
    CHECK(lb.session(RS3, 443, Net::client, a.cport) == nullptr);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 1);
}

TEST_CASE("expire_nodest_conn: a client SYN on a gone server's session is scheduled anew", "[nodest]") {
    Lb lb(LbOptions{.config = with_flag(default_lb_config(), fullnat_tcp)});
    Conn c = open(lb, 52300, Net::vip, 80, RS1);
    establish(lb, c);
    lb.reconfigure(without_real(with_flag(default_lb_config(), fullnat_tcp), fullnat_tcp, 0));
    Conn again = open(lb, 52300, Net::vip, 80, RS2);  // the client reuses its port (rebooted)
    CHECK(again.lport != c.lport);
    CHECK(lb.lip_pool().in_use() == 1);
    CHECK(lb.session(RS1, 8080, Net::lip, c.lport) == nullptr);
    CHECK(session_of(lb, again)->state == SessionState::tcp_syn_recv);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 1);
    CHECK(lb.fwd.counters().sessions_rescheduled.get() == 1);
    CHECK(lb.fwd.counters().nodest_resets.get() == 0);
}

TEST_CASE("expire_nodest_conn: a client SYN to a server at weight 0 is scheduled anew; its data is not", "[nodest]") {
    Lb lb(LbOptions{.config = with_flag(default_lb_config(), fullnat_tcp)});
    Conn a = open(lb, 52400, Net::vip, 80, RS1);
    Conn b = open(lb, 52401, Net::vip, 80, RS2);
    establish(lb, a);
    establish(lb, b);
    config::Config cfg = with_flag(default_lb_config(), fullnat_tcp);
    cfg.services[fullnat_tcp].reals[0].weight = 0;  // RS1 inhibited: still in the service
    lb.reconfigure(cfg);
    client_to_server(lb, a, ACK | PSH, 20);  // its connection goes on
    server_to_client(lb, a, ACK, 0);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 0);
    Conn again = open(lb, 52400, Net::vip, 80, RS2);
    CHECK(again.lport != a.lport);
    CHECK(lb.fwd.counters().sessions_rescheduled.get() == 1);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 0);
}

TEST_CASE("expire_nodest_conn, UDP: the next datagram goes to a server still there", "[nodest]") {
    config::Config cfg = default_lb_config();
    cfg.services[fullnat_udp].reals.push_back(real("10.0.0.32", 5353));
    cfg.services[nat_udp].reals.push_back(real("10.0.0.42", 5353, config::ForwardMethod::nat));
    cfg = with_flag(with_flag(cfg, fullnat_udp), nat_udp);
    Lb lb(LbOptions{.config = cfg});
    Conn fn = open(lb, 53000, Net::vip, 53, RS5, UDP);
    Conn nat = open(lb, 53001, Net::vip, 5353, RS6, UDP);
    REQUIRE(fn.lport != 0);
    REQUIRE(nat.lport == 0);
    lb.reconfigure(without_real(without_real(cfg, fullnat_udp, 0), nat_udp, 0));

    SECTION("a client datagram is scheduled anew") {
        FrameSpec q = from_client(fn, 0, UDP, 20);
        Bytes out = forward(lb, q, Net::client_port, RS5B);
        CHECK(be16(udp_of(out).sport) != fn.lport);
        check_checksums(out);
        FrameSpec q2 = from_client(nat, 0, UDP, 20);
        forward_exact(lb, q2, Net::client_port, rewritten(q2, Net::client, nat.cport, RS6B, 5353));
        CHECK(lb.fwd.counters().sessions_rescheduled.get() == 2);
        CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 2);
        CHECK(session_of(lb, fn, UDP)->real_id == lb.real_id(UDP, Net::vip, 53, RS5B));
    }
    SECTION("a datagram from the gone server ends the session and is dropped") {
        FrameSpec r = from_server(fn, 0, UDP, 30);
        Bytes f = build_frame(r);
        fwd::Verdict v = lb.send(f, Net::server_port);
        CHECK(v.action == Action::drop);
        CHECK(v.reason == DropReason::real_server_gone);
        CHECK(session_of(lb, fn, UDP) == nullptr);
        CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 1);
        FrameSpec r2 = from_server(nat, 0, UDP, 30);
        Bytes f2 = build_frame(r2);
        CHECK(lb.send(f2, Net::server_port).reason == DropReason::real_server_gone);
        CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 2);
    }
}

TEST_CASE("expire_nodest_conn: the service removed takes its connections with it", "[nodest]") {
    Lb lb(LbOptions{.config = with_flag(default_lb_config(), nat_tcp)});
    Conn c = open(lb, 53100, Net::vip, 443, RS3);
    establish(lb, c);
    config::Config cfg = with_flag(default_lb_config(), nat_tcp);
    cfg.services.erase(cfg.services.begin() + long(nat_tcp));
    lb.reconfigure(cfg);
    const FrameSpec in = numbered(from_client(c, ACK | PSH, TCP, 8), 0x100, 0x200);
    fwd::Verdict v;
    Bytes out = forward(lb, in, Net::client_port, RS3, &v);
    check_frame(out, reset_replacing(in, Net::client, c.cport, RS3, 443));
    CHECK(v.extra);
    CHECK(session_of(lb, c) == nullptr);
}

TEST_CASE("expire_nodest_conn turned off again: connections of gone servers go on", "[nodest]") {
    Lb lb(LbOptions{.config = with_flag(default_lb_config(), fullnat_tcp)});
    Conn c = open(lb, 53200, Net::vip, 80, RS1);
    establish(lb, c);
    lb.reconfigure(without_real(default_lb_config(), fullnat_tcp, 0));  // flag off, RS1 gone
    client_to_server(lb, c, ACK | PSH, 10);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 0);
}

TEST_CASE("Without the flag: a SYN retried to a server that left before answering is scheduled anew",
          "[nodest]") {
    Lb lb;
    Conn c = open(lb, 53300, Net::vip, 80, RS1);
    Conn kept = open(lb, 53301, Net::vip, 80, RS2);
    lb.reconfigure(without_real(default_lb_config(), fullnat_tcp, 0));
    lb.now += 1000;
    Conn again = open(lb, 53300, Net::vip, 80, RS2);  // SYN_RECV, RS1 gone: rescheduled
    CHECK(again.lport != c.lport);
    CHECK(lb.fwd.counters().sessions_rescheduled.get() == 1);
    CHECK(lb.fwd.counters().sessions_expired_nodest.get() == 0);
    // A retried SYN to a server still there stays with it.
    client_to_server(lb, kept, SYN);
    CHECK(lb.fwd.counters().sessions_rescheduled.get() == 1);
    // Once the server has answered and the client acknowledged, a SYN is no new connection.
    establish(lb, again);
    lb.reconfigure(without_real(without_real(default_lb_config(), fullnat_tcp, 0), fullnat_tcp, 0));
    client_to_server(lb, again, SYN);
    CHECK(lb.fwd.counters().sessions_rescheduled.get() == 1);
}

TEST_CASE("expire_nodest_conn, DR: the reset goes to the server as the client's packets do", "[nodest]") {
    LbOptions o = dr_tun_options();
    o.config.services[0].expire_nodest_conn = true;
    Lb lb(o);
    FrameSpec syn = client_packet(53400, Net::vip, 80, SYN);
    Bytes f = build_frame(syn);
    REQUIRE(lb.send(f, Net::client_port).route_to == DrTunNet::d1);
    config::Config cfg = o.config;
    cfg.services[0].reals.erase(cfg.services[0].reals.begin());
    lb.reconfigure(cfg);
    const FrameSpec in = numbered(client_packet(53400, Net::vip, 80, ACK | PSH, TCP, 40), 0x5000, 0x6000);
    fwd::Verdict v;
    Bytes out = forward(lb, in, Net::client_port, DrTunNet::d1, &v);
    FrameSpec want = reset_replacing(in, Net::client, 53400, Net::vip, 80);
    want.ttl = in.ttl;  // DR re-addresses the frame only
    check_frame(out, want);
    REQUIRE(v.extra);
    check_frame(extra_of(lb), reset_to_sender(in, 40, Net::vip, 80, Net::client, 53400, 1));
}

TEST_CASE("ExtraPacket and the reset fit: a reset frame is 54 bytes", "[nodest]") {
    STATIC_REQUIRE(pkt::l3_offset + fwd::tcp_reset_ip_len <= fwd::ExtraPacket::capacity);
}
