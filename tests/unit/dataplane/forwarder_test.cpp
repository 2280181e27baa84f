// The Forwarder end to end on crafted packets: every forwarded frame is compared byte for
// byte with the frame the load balancer must emit (built from scratch, checksums included),
// and sessions, counters and SNAT ports are checked after each step.
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

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack, FIN = pkt::tcp_fin, RST = pkt::tcp_rst,
                  PSH = pkt::tcp_psh;
constexpr uint8_t TCP = pkt::proto_tcp, UDP = pkt::proto_udp;
const uint32_t RS1 = ip("10.0.0.11"), RS2 = ip("10.0.0.12"), RS3 = ip("10.0.0.21"), RS4 = ip("10.0.0.22"),
               RS5 = ip("10.0.0.31"), RS6 = ip("10.0.0.41");

// Sends `in` on `port`; requires a forward to `route_to` and returns the frame that leaves.
Bytes forward(Lb& lb, const FrameSpec& in, uint16_t port, uint32_t route_to) {
    Bytes f = build_frame(in);
    fwd::Verdict v = lb.send(f, port);
    REQUIRE(v.action == Action::forward);
    CHECK(v.reason == DropReason::none);
    CHECK(v.route_to == route_to);
    return f;
}
// Sends `in`; requires exactly `want` to leave toward want.daddr.
void forward_exact(Lb& lb, const FrameSpec& in, uint16_t port, const FrameSpec& want) {
    Bytes got = forward(lb, in, port, want.daddr);
    const Bytes w = build_frame(want);
    INFO(describe_difference(got, w));
    CHECK(got == w);
    check_checksums(got);
}
// Sends `in`; requires a drop for `reason` and the frame untouched.
void dropped(Lb& lb, const FrameSpec& in, uint16_t port, DropReason reason) {
    Bytes f = build_frame(in);
    const Bytes before = f;
    fwd::Verdict v = lb.send(f, port);
    CHECK(v.action == Action::drop);
    CHECK(v.reason == reason);
    CHECK(f == before);
}

// A FULLNAT TCP connection from the client, as the load balancer set it up.
struct Conn {
    uint16_t cport;
    uint32_t rip;
    uint16_t rport;
    uint16_t lport;  // FULLNAT; 0 for NAT
};

// Client SYN to VIP:80 (FULLNAT): checks the rewrite and returns where it went.
Conn syn_fullnat(Lb& lb, uint16_t cport, uint32_t expect_rip) {
    FrameSpec syn = client_packet(cport, Net::vip, 80, SYN);
    syn.tcp_options = tcp_options_mss_sack_ts();
    Bytes out = forward(lb, syn, Net::client_port, expect_rip);
    const uint16_t lport = be16(tcp_of(out).sport);
    CHECK(lport >= lb.opts.first_lport);
    CHECK(lport <= lb.opts.last_lport);
    CHECK(lport % lb.opts.nworkers == lb.opts.worker);
    const Bytes want = build_frame(rewritten(syn, Net::lip, lport, expect_rip, 8080));
    INFO(describe_difference(out, want));
    CHECK(out == want);
    check_checksums(out);
    return Conn{cport, expect_rip, 8080, lport};
}

// Client -> real server and back through an established FULLNAT connection.
void client_to_server(Lb& lb, const Conn& c, uint8_t flags, size_t payload = 0) {
    FrameSpec in = client_packet(c.cport, Net::vip, 80, flags, TCP, payload);
    forward_exact(lb, in, Net::client_port, rewritten(in, Net::lip, c.lport, c.rip, c.rport));
}
void server_to_client(Lb& lb, const Conn& c, uint8_t flags, size_t payload = 0) {
    FrameSpec in = server_packet(c.rip, c.rport, Net::lip, c.lport, flags, TCP, payload);
    forward_exact(lb, in, Net::server_port, rewritten(in, Net::vip, 80, Net::client, c.cport));
}

SessionState state_of(const Lb& lb, const Conn& c) {
    const Session* s = lb.session(Net::client, c.cport, Net::vip, 80);
    REQUIRE(s);
    return s->state;
}

struct Gauges {
    uint64_t active, inactive;
    bool operator==(const Gauges&) const = default;
};
Gauges gauges(const RealCounters& r) { return {r.active.get(), r.inactive.get()}; }

// A local address the load balancer answers for (ARP, ICMP echo), asked on `port`, whose
// MAC the answer carries.
struct Answering {
    const char* what;
    uint32_t addr;
    uint16_t port;
    pkt::Mac mac;
};

// Sends `f` (ARP or IPv4) on `port`; requires it answered in place as exactly `want`.
Bytes answer_in_place(Lb& lb, Bytes f, uint16_t port, const Bytes& want, bool arp) {
    fwd::Verdict v = arp ? lb.send_arp(f, port) : lb.send(f, port);
    CHECK(v.action == Action::reply);
    CHECK(v.reason == DropReason::none);
    INFO(describe_difference(f, want));
    CHECK(f == want);
    return f;
}

Tick timeout_ms(const Lb& lb, SessionState s) { return lb.snap->timeout_ms[unsigned(s)]; }

// Checks the session of `c` is still there just before `deadline` and gone within one
// expiry-wheel slot after it.
void expires_between(Lb& lb, const Conn& c, Tick deadline) {
    lb.expire_at(deadline - 1);
    CHECK(lb.session(Net::client, c.cport, Net::vip, 80) != nullptr);
    lb.expire_at(deadline + ExpiryWheel::slot_width);
    CHECK(lb.session(Net::client, c.cport, Net::vip, 80) == nullptr);
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<Gauges> {
    static std::string convert(const Gauges& g) {
        return "{active " + std::to_string(g.active) + ", inactive " + std::to_string(g.inactive) + "}";
    }
};
}  // namespace Catch

TEST_CASE("Forwarder FULLNAT TCP: handshake, data, client close, expiry; counters as IPVS", "[forwarder]") {
    Lb lb;
    const RealCounters& rs1 = lb.real(TCP, Net::vip, 80, RS1);
    const RealCounters& rs2 = lb.real(TCP, Net::vip, 80, RS2);
    const ServiceCounters& svc = lb.service_counters(TCP, Net::vip, 80);
    const Tick t0 = lb.now;

    // SYN: a session, an lport of this worker, a new inactive connection on RS1.
    Conn c = syn_fullnat(lb, 40000, RS1);
    CHECK(c.lport == 1024);  // next-fit from the start of the range
    CHECK(lb.lip_pool().in_use() == 1);
    CHECK(lb.fwd.sessions().size() == 1);
    const Session* s = lb.session(Net::client, 40000, Net::vip, 80);
    REQUIRE(s);
    CHECK(lb.session(RS1, 8080, Net::lip, c.lport) == s);  // the reply key
    CHECK(s->state == SessionState::tcp_syn_recv);
    CHECK(s->mode() == ForwardMode::fullnat);
    CHECK(s->real_id == lb.real_id(TCP, Net::vip, 80, RS1));
    CHECK(s->service_id == lb.service(TCP, Net::vip, 80).id);
    CHECK(s->expires == t0 + 60000);  // SYN_RECV
    CHECK(rs1.conns.get() == 1);
    CHECK(gauges(rs1) == Gauges{0, 1});
    CHECK(svc.conns.get() == 1);
    CHECK(svc.live.get() == 1);
    CHECK(lb.fwd.counters().sessions_created.get() == 1);

    // SYN-ACK from RS1 to LIP:lport leaves as VIP:80 -> client.
    lb.now += 1;
    server_to_client(lb, c, SYN | ACK);
    CHECK(state_of(lb, c) == SessionState::tcp_syn_recv);
    CHECK(gauges(rs1) == Gauges{0, 1});

    // ACK: ESTABLISHED, counted active.
    lb.now += 1;
    client_to_server(lb, c, ACK);
    CHECK(state_of(lb, c) == SessionState::tcp_established);
    CHECK(gauges(rs1) == Gauges{1, 0});
    CHECK(s->expires == lb.now + 900000);

    // Data both ways, with payload.
    client_to_server(lb, c, ACK | PSH, 300);
    server_to_client(lb, c, ACK | PSH, 1200);
    server_to_client(lb, c, ACK, 0);
    CHECK(state_of(lb, c) == SessionState::tcp_established);

    // Client closes: CLOSE_WAIT (inactive), then the server's FIN: TIME_WAIT.
    lb.now += 10;
    client_to_server(lb, c, FIN | ACK);
    CHECK(state_of(lb, c) == SessionState::tcp_close_wait);
    CHECK(gauges(rs1) == Gauges{0, 1});
    server_to_client(lb, c, FIN | ACK);
    CHECK(state_of(lb, c) == SessionState::tcp_time_wait);
    client_to_server(lb, c, ACK);
    CHECK(state_of(lb, c) == SessionState::tcp_time_wait);
    const Tick last = lb.now;

    // Counters: 5 packets in, 4 out, bytes = IP lengths.
    const uint64_t syn_bytes = 20 + 20 + 20;  // IP + TCP + the SYN's 20 option bytes
    const uint64_t in_bytes = syn_bytes + 40 + 340 + 40 + 40;
    const uint64_t out_bytes = 40 + 1240 + 40 + 40;
    CHECK(rs1.in_packets.get() == 5);
    CHECK(rs1.out_packets.get() == 4);
    CHECK(rs1.in_bytes.get() == in_bytes);
    CHECK(rs1.out_bytes.get() == out_bytes);
    CHECK(svc.in_packets.get() == 5);
    CHECK(svc.out_packets.get() == 4);
    CHECK(svc.in_bytes.get() == in_bytes);
    CHECK(svc.out_bytes.get() == out_bytes);
    CHECK(rs2.conns.get() == 0);
    CHECK(rs2.in_packets.get() == 0);

    // TIME_WAIT lasts 2 minutes; then the session and its port are gone.
    expires_between(lb, c, last + 120000);
    CHECK(lb.fwd.sessions().size() == 0);
    CHECK(lb.session(RS1, 8080, Net::lip, c.lport) == nullptr);
    CHECK(lb.lip_pool().in_use() == 0);
    CHECK(gauges(rs1) == Gauges{0, 0});
    CHECK(svc.live.get() == 0);
    CHECK(rs1.conns.get() == 1);  // a total, not a gauge
    CHECK(lb.fwd.counters().sessions_expired.get() == 1);
    // Late packets of the old connection find nothing.
    dropped(lb, client_packet(40000, Net::vip, 80, ACK), Net::client_port, DropReason::tcp_no_session);
    dropped(lb, server_packet(RS1, 8080, Net::lip, c.lport, ACK), Net::server_port, DropReason::not_for_us);
}

TEST_CASE("Forwarder FULLNAT TCP: close sequences reach IPVS's state and expire after its timeout", "[forwarder]") {
    struct Step {
        bool from_client;
        uint8_t flags;
    };
    struct Case {
        const char* what;
        std::vector<Step> steps;
        SessionState final_state;
        Gauges final_gauges;
    };
    const Case cases[] = {
        {"client closes", {{true, FIN | ACK}, {false, ACK}, {false, FIN | ACK}, {true, ACK}},
         SessionState::tcp_time_wait, {0, 1}},
        {"server closes", {{false, FIN | ACK}, {true, ACK}, {true, FIN | ACK}, {false, ACK}},
         SessionState::tcp_time_wait, {0, 1}},
        {"server half-closes only", {{false, FIN | ACK}, {true, ACK}}, SessionState::tcp_fin_wait, {0, 1}},
        {"simultaneous close", {{true, FIN | ACK}, {false, FIN | ACK}, {true, ACK}, {false, ACK}},
         SessionState::tcp_time_wait, {0, 1}},
        {"client resets", {{true, RST}}, SessionState::tcp_close, {0, 1}},
        {"server resets", {{false, RST | ACK}}, SessionState::tcp_close, {0, 1}},
        {"idle established", {}, SessionState::tcp_established, {1, 0}},
    };
    for (const auto& k : cases) {
        INFO(k.what);
        Lb lb;
        Conn c = syn_fullnat(lb, 41000, RS1);
        server_to_client(lb, c, SYN | ACK);
        client_to_server(lb, c, ACK);
        for (const auto& st : k.steps) {
            lb.now += 5;
            if (st.from_client)
                client_to_server(lb, c, st.flags);
            else
                server_to_client(lb, c, st.flags);
        }
        CHECK(state_of(lb, c) == k.final_state);
        CHECK(gauges(lb.real(TCP, Net::vip, 80, RS1)) == k.final_gauges);
        expires_between(lb, c, lb.now + timeout_ms(lb, k.final_state));
        CHECK(gauges(lb.real(TCP, Net::vip, 80, RS1)) == Gauges{0, 0});
        CHECK(lb.lip_pool().in_use() == 0);
    }
}

TEST_CASE("Forwarder: an unanswered SYN expires after SYN_RECV's minute", "[forwarder]") {
    Lb lb;
    Conn c = syn_fullnat(lb, 42000, RS1);
    lb.now += 30000;
    client_to_server(lb, c, SYN);  // retransmission: same server, same lport, deadline moved
    CHECK(lb.lip_pool().in_use() == 1);
    expires_between(lb, c, lb.now + 60000);
    CHECK(lb.lip_pool().in_use() == 0);
}

TEST_CASE("Forwarder: a shorter timeout is not delayed by the longer one before it", "[forwarder]") {
    Lb lb;
    Conn c = syn_fullnat(lb, 42100, RS1);
    server_to_client(lb, c, SYN | ACK);
    client_to_server(lb, c, ACK);  // ESTABLISHED: 15 minutes
    lb.now += 1000;
    client_to_server(lb, c, RST);  // CLOSE: 10 seconds, filed earlier on the wheel
    expires_between(lb, c, lb.now + 10000);
}

TEST_CASE("Forwarder: rr alternates RS1, RS2, RS1, RS2; each connection has its own lport", "[forwarder]") {
    Lb lb;
    const uint32_t want[] = {RS1, RS2, RS1, RS2};
    std::vector<uint16_t> lports;
    for (int i = 0; i < 4; ++i) lports.push_back(syn_fullnat(lb, uint16_t(43000 + i), want[i]).lport);
    CHECK(lports == std::vector<uint16_t>{1024, 1025, 1026, 1027});
    CHECK(lb.real(TCP, Net::vip, 80, RS1).conns.get() == 2);
    CHECK(lb.real(TCP, Net::vip, 80, RS2).conns.get() == 2);
    CHECK(gauges(lb.real(TCP, Net::vip, 80, RS2)) == Gauges{0, 2});
    CHECK(lb.service_counters(TCP, Net::vip, 80).conns.get() == 4);
    CHECK(lb.service_counters(TCP, Net::vip, 80).live.get() == 4);
    CHECK(lb.lip_pool().in_use() == 4);
    CHECK(lb.fwd.sessions().size() == 4);
}

TEST_CASE("Forwarder NAT TCP: destination rewritten in, source rewritten out", "[forwarder]") {
    Lb lb;
    for (int i = 0; i < 2; ++i) {
        const uint16_t cport = uint16_t(44000 + i);
        const uint32_t rs = i == 0 ? RS3 : RS4;
        INFO("connection " << i);
        FrameSpec syn = client_packet(cport, Net::vip, 443, SYN, TCP, 0);
        syn.ip_options = ip_options_of_words(2);
        forward_exact(lb, syn, Net::client_port, rewritten(syn, Net::client, cport, rs, 443));
        const Session* s = lb.session(Net::client, cport, Net::vip, 443);
        REQUIRE(s);
        CHECK(s->mode() == ForwardMode::nat);
        CHECK(s->laddr_id == no_laddr);
        CHECK(lb.session(rs, 443, Net::client, cport) == s);  // reply key: server -> client

        FrameSpec synack = server_packet(rs, 443, Net::client, cport, SYN | ACK, TCP, 0);
        forward_exact(lb, synack, Net::server_port, rewritten(synack, Net::vip, 443, Net::client, cport));
        FrameSpec ack = client_packet(cport, Net::vip, 443, ACK, TCP, 517);
        forward_exact(lb, ack, Net::client_port, rewritten(ack, Net::client, cport, rs, 443));
        CHECK(s->state == SessionState::tcp_established);
        CHECK(gauges(lb.real(TCP, Net::vip, 443, rs)) == Gauges{1, 0});
        FrameSpec data = server_packet(rs, 443, Net::client, cport, ACK | PSH, TCP, 1400);
        forward_exact(lb, data, Net::server_port, rewritten(data, Net::vip, 443, Net::client, cport));
        const RealCounters& r = lb.real(TCP, Net::vip, 443, rs);
        CHECK(r.in_packets.get() == 2);
        CHECK(r.out_packets.get() == 2);
        CHECK(r.in_bytes.get() == 48 + 40 + 517);
        CHECK(r.out_bytes.get() == 40 + 1440);
    }
    CHECK(lb.lip_pool().in_use() == 0);  // NAT uses no local port
    const ServiceCounters& svc = lb.service_counters(TCP, Net::vip, 443);
    CHECK(svc.conns.get() == 2);
    CHECK(svc.in_packets.get() == 4);
    CHECK(svc.out_packets.get() == 4);
}

TEST_CASE("Forwarder UDP: FULLNAT and NAT services both ways, UDP timeout", "[forwarder]") {
    Lb lb;
    // FULLNAT: client:45000 -> VIP:53 becomes LIP:lport -> RS5:5353.
    FrameSpec q = client_packet(45000, Net::vip, 53, 0, UDP, 29);
    Bytes out = forward(lb, q, Net::client_port, RS5);
    const uint16_t lport = be16(udp_of(out).sport);
    CHECK(lport == 1024);
    CHECK(out == build_frame(rewritten(q, Net::lip, lport, RS5, 5353)));
    check_checksums(out);
    FrameSpec r = server_packet(RS5, 5353, Net::lip, lport, 0, UDP, 200);
    forward_exact(lb, r, Net::server_port, rewritten(r, Net::vip, 53, Net::client, 45000));
    // A second query of the same flow, without a checksum, reuses the session.
    FrameSpec q2 = client_packet(45000, Net::vip, 53, 0, UDP, 10);
    q2.udp_no_checksum = true;
    Bytes out2 = forward(lb, q2, Net::client_port, RS5);
    CHECK(out2 == build_frame(rewritten(q2, Net::lip, lport, RS5, 5353)));
    CHECK(udp_of(out2).checksum == 0);
    const Session* s = lb.session(Net::client, 45000, Net::vip, 53, UDP);
    REQUIRE(s);
    CHECK(s->state == SessionState::udp);
    CHECK(gauges(lb.real(UDP, Net::vip, 53, RS5)) == Gauges{0, 1});  // UDP is never "active"

    // NAT: client:45001 -> VIP:5353 becomes client -> RS6:5353, and back.
    FrameSpec nq = client_packet(45001, Net::vip, 5353, 0, UDP, 5);
    forward_exact(lb, nq, Net::client_port, rewritten(nq, Net::client, 45001, RS6, 5353));
    FrameSpec nr = server_packet(RS6, 5353, Net::client, 45001, 0, UDP, 77);
    forward_exact(lb, nr, Net::server_port, rewritten(nr, Net::vip, 5353, Net::client, 45001));

    const RealCounters& rs5 = lb.real(UDP, Net::vip, 53, RS5);
    CHECK(rs5.conns.get() == 1);
    CHECK(rs5.in_packets.get() == 2);
    CHECK(rs5.out_packets.get() == 1);
    CHECK(rs5.in_bytes.get() == 57 + 38);
    CHECK(rs5.out_bytes.get() == 228);
    CHECK(lb.service_counters(UDP, Net::vip, 5353).in_bytes.get() == 33);
    CHECK(lb.service_counters(UDP, Net::vip, 5353).out_bytes.get() == 105);

    // UDP sessions live 5 minutes after their last packet.
    const Tick last = lb.now;
    lb.expire_at(last + 300000 - 1);
    CHECK(lb.fwd.sessions().size() == 2);
    lb.expire_at(last + 300000 + ExpiryWheel::slot_width);
    CHECK(lb.fwd.sessions().size() == 0);
    CHECK(lb.lip_pool().in_use() == 0);
    CHECK(gauges(rs5) == Gauges{0, 0});
}

TEST_CASE("Forwarder: drops without a session", "[forwarder]") {
    Lb lb;
    struct Case {
        const char* what;
        FrameSpec spec;
        uint16_t port;
        DropReason reason;
    };
    auto gre = [] {
        FrameSpec s = client_packet(1, Net::vip, 0, 0);
        s.proto = 47;
        s.payload = payload_of(8);
        return s;
    };
    const Case cases[] = {
        {"TCP ACK without a session", client_packet(46000, Net::vip, 80, ACK), 0, DropReason::tcp_no_session},
        {"TCP FIN without a session", client_packet(46000, Net::vip, 80, FIN | ACK), 0, DropReason::tcp_no_session},
        {"TCP SYN|RST", client_packet(46000, Net::vip, 80, SYN | RST), 0, DropReason::tcp_no_session},
        {"TCP with no flags", client_packet(46000, Net::vip, 80, 0), 0, DropReason::tcp_no_session},
        {"SYN to a VIP port without service", client_packet(46000, Net::vip, 81, SYN), 0, DropReason::no_service},
        {"UDP to a VIP port only TCP serves", client_packet(46000, Net::vip, 80, 0, UDP), 0, DropReason::no_service},
        {"SYN to an unknown address", client_packet(46000, Net::unknown, 80, SYN), 0, DropReason::not_for_us},
        {"SYN to an interface address", client_packet(46000, Net::port0_addr, 22, SYN), 0, DropReason::not_for_us},
        {"SYN to the local address", client_packet(46000, Net::lip, 80, SYN), 0, DropReason::not_for_us},
        {"server packet to an unused lport", server_packet(RS1, 8080, Net::lip, 1024, SYN | ACK), 1,
         DropReason::not_for_us},
        {"GRE to the VIP", gre(), 0, DropReason::not_for_us},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        dropped(lb, c.spec, c.port, c.reason);
    }
    CHECK(lb.fwd.sessions().size() == 0);
    CHECK(lb.fwd.counters().sessions_created.get() == 0);
    CHECK(lb.real(TCP, Net::vip, 80, RS1).conns.get() == 0);
}

TEST_CASE("Forwarder: every real server at weight 0 -> no_real_server", "[forwarder]") {
    LbOptions o;
    for (auto& r : o.config.services[0].reals) r.weight = 0;
    Lb lb(o);
    dropped(lb, client_packet(47000, Net::vip, 80, SYN), 0, DropReason::no_real_server);
    CHECK(lb.lip_pool().in_use() == 0);
    CHECK(lb.fwd.sessions().size() == 0);
}

TEST_CASE("Forwarder: a quiesced server keeps its connections and gets no new ones", "[forwarder]") {
    Lb lb;
    Conn c1 = syn_fullnat(lb, 47100, RS1);
    server_to_client(lb, c1, SYN | ACK);
    config::Config cfg = default_lb_config();
    cfg.services[0].reals[0].weight = 0;
    lb.reconfigure(cfg);
    client_to_server(lb, c1, ACK);  // still RS1
    CHECK(state_of(lb, c1) == SessionState::tcp_established);
    syn_fullnat(lb, 47101, RS2);
    syn_fullnat(lb, 47102, RS2);
    // Service removed altogether: existing sessions still forward, new SYNs find no service.
    cfg.services.erase(cfg.services.begin());
    lb.reconfigure(cfg);
    server_to_client(lb, c1, ACK | PSH, 10);
    dropped(lb, client_packet(47103, Net::vip, 80, SYN), 0, DropReason::no_service);
}

TEST_CASE("Forwarder: session table full -> session_table_full, existing sessions still forward", "[forwarder]") {
    LbOptions o;
    o.session_capacity = 4;
    Lb lb(o);
    std::vector<Conn> conns;
    for (int i = 0; i < 4; ++i) conns.push_back(syn_fullnat(lb, uint16_t(48000 + i), i % 2 ? RS2 : RS1));
    CHECK(lb.lip_pool().in_use() == 4);
    dropped(lb, client_packet(48100, Net::vip, 80, SYN), 0, DropReason::session_table_full);
    dropped(lb, client_packet(48101, Net::vip, 5353, 0, UDP, 3), 0, DropReason::session_table_full);
    CHECK(lb.lip_pool().in_use() == 4);  // the port taken for the refused connection came back
    CHECK(lb.fwd.sessions().size() == 4);
    for (const auto& c : conns) {
        server_to_client(lb, c, SYN | ACK);
        client_to_server(lb, c, ACK);
    }
    // A real server's count moved only for admitted connections.
    CHECK(lb.real(TCP, Net::vip, 80, RS1).conns.get() + lb.real(TCP, Net::vip, 80, RS2).conns.get() == 4);
    // Room again after one closes and expires.
    client_to_server(lb, conns[0], RST);
    lb.expire_at(lb.now + 10000 + ExpiryWheel::slot_width);
    CHECK(lb.fwd.sessions().size() == 3);
    Bytes f = build_frame(client_packet(48100, Net::vip, 80, SYN));
    CHECK(lb.send(f, 0).action == Action::forward);
}

TEST_CASE("Forwarder: local ports exhausted -> snat_ports_exhausted, existing flows continue", "[forwarder]") {
    LbOptions o;
    o.first_lport = 5000;
    o.last_lport = 5001;
    Lb lb(o);
    Conn a = syn_fullnat(lb, 49000, RS1);
    Conn b = syn_fullnat(lb, 49001, RS2);
    CHECK(a.lport == 5000);
    CHECK(b.lport == 5001);
    dropped(lb, client_packet(49002, Net::vip, 80, SYN), 0, DropReason::snat_ports_exhausted);
    dropped(lb, client_packet(49003, Net::vip, 53, 0, UDP, 1), 0, DropReason::snat_ports_exhausted);
    CHECK(lb.fwd.sessions().size() == 2);
    server_to_client(lb, a, SYN | ACK);
    server_to_client(lb, b, SYN | ACK);
    client_to_server(lb, a, ACK);
    client_to_server(lb, b, ACK);
    // NAT services need no port.
    FrameSpec nat = client_packet(49004, Net::vip, 443, SYN);
    forward_exact(lb, nat, 0, rewritten(nat, Net::client, 49004, RS3, 443));
    // One connection ends: its port serves the next one.
    client_to_server(lb, a, RST);
    lb.expire_at(lb.now + 10000 + ExpiryWheel::slot_width);
    CHECK(lb.lip_pool().in_use() == 1);
    Bytes f = build_frame(client_packet(49005, Net::vip, 80, SYN));
    REQUIRE(lb.send(f, 0).action == Action::forward);
    CHECK(be16(tcp_of(f).sport) == 5000);
}

TEST_CASE("Forwarder: a FULLNAT service without a usable local address -> snat_no_local_address", "[forwarder]") {
    LbOptions o;
    o.config.services[0].local_addresses.clear();  // validation forbids it; the fast path copes
    Lb lb(o);
    dropped(lb, client_packet(49100, Net::vip, 80, SYN), 0, DropReason::snat_no_local_address);
}

TEST_CASE("Forwarder: a new SYN on a TIME_WAIT or CLOSE session is scheduled afresh", "[forwarder]") {
    Lb lb;
    const RealCounters& rs1 = lb.real(TCP, Net::vip, 80, RS1);
    const RealCounters& rs2 = lb.real(TCP, Net::vip, 80, RS2);
    Conn c = syn_fullnat(lb, 50000, RS1);
    server_to_client(lb, c, SYN | ACK);
    client_to_server(lb, c, ACK);
    client_to_server(lb, c, FIN | ACK);
    server_to_client(lb, c, FIN | ACK);
    REQUIRE(state_of(lb, c) == SessionState::tcp_time_wait);

    // The client reuses its port: the next server in rr, a fresh lport, the old session gone.
    Conn again = syn_fullnat(lb, 50000, RS2);
    CHECK(again.lport == 1025);
    CHECK(lb.fwd.sessions().size() == 1);
    CHECK(lb.session(RS1, 8080, Net::lip, c.lport) == nullptr);
    CHECK(lb.lip_pool().in_use() == 1);
    CHECK(gauges(rs1) == Gauges{0, 0});
    CHECK(gauges(rs2) == Gauges{0, 1});
    CHECK(state_of(lb, again) == SessionState::tcp_syn_recv);

    // Reset, then reused again: CLOSE is also a finished connection.
    server_to_client(lb, again, SYN | ACK);
    client_to_server(lb, again, ACK);
    server_to_client(lb, again, RST);
    REQUIRE(state_of(lb, again) == SessionState::tcp_close);
    Conn third = syn_fullnat(lb, 50000, RS1);
    CHECK(third.lport == 1026);
    CHECK(gauges(rs2) == Gauges{0, 0});
    CHECK(lb.lip_pool().in_use() == 1);

    // A SYN on a live connection is not a new connection.
    server_to_client(lb, third, SYN | ACK);
    client_to_server(lb, third, ACK);
    client_to_server(lb, third, SYN);
    CHECK(lb.fwd.sessions().size() == 1);
    CHECK(rs1.conns.get() == 2);
    CHECK(rs2.conns.get() == 1);
    // Every session ended is one expired for the counters.
    CHECK(lb.fwd.counters().sessions_created.get() == 3);
    CHECK(lb.fwd.counters().sessions_expired.get() == 2);
}

TEST_CASE("Forwarder: NAT reply tuple already used -> session_conflict", "[forwarder]") {
    Lb lb;
    // The same client port to two VIPs whose NAT services share RS3:443: the server would
    // see the same tuple twice.
    FrameSpec a = client_packet(51000, Net::vip, 443, SYN);
    forward_exact(lb, a, 0, rewritten(a, Net::client, 51000, RS3, 443));
    dropped(lb, client_packet(51000, Net::vip2, 443, SYN), 0, DropReason::session_conflict);
    CHECK(lb.fwd.sessions().size() == 1);
    CHECK(lb.real(TCP, Net::vip2, 443, RS3).conns.get() == 0);
}

TEST_CASE("Forwarder: TTL exhausted -> ip_ttl_exceeded, no session, nothing changed", "[forwarder]") {
    Lb lb;
    // Three refused SYNs (an odd number, so a scheduler that moved would now point at RS2).
    const uint8_t ttls[] = {1, 0, 1};
    for (uint16_t i = 0; i < 3; ++i) {
        INFO("TTL " << int(ttls[i]));
        FrameSpec syn = client_packet(uint16_t(52010 + i), Net::vip, 80, SYN);
        syn.ttl = ttls[i];
        dropped(lb, syn, 0, DropReason::ip_ttl_exceeded);
        FrameSpec udp = client_packet(uint16_t(52020 + i), Net::vip, 5353, 0, UDP, 4);
        udp.ttl = ttls[i];
        dropped(lb, udp, 0, DropReason::ip_ttl_exceeded);
    }
    CHECK(lb.fwd.sessions().size() == 0);
    CHECK(lb.lip_pool().in_use() == 0);
    CHECK(lb.fwd.counters().sessions_created.get() == 0);
    CHECK(lb.real(TCP, Net::vip, 80, RS1).conns.get() == 0);
    CHECK(lb.service_counters(TCP, Net::vip, 80).conns.get() == 0);
    // The scheduler did not move either: the first admitted connection goes to RS1.
    Conn c = syn_fullnat(lb, 52002, RS1);
    // On an existing session both directions refuse too, and the session is untouched.
    const Tick deadline = lb.session(Net::client, c.cport, Net::vip, 80)->expires;
    lb.now += 100;
    FrameSpec late = client_packet(c.cport, Net::vip, 80, ACK);
    late.ttl = 1;
    dropped(lb, late, 0, DropReason::ip_ttl_exceeded);
    FrameSpec back = server_packet(RS1, 8080, Net::lip, c.lport, SYN | ACK);
    back.ttl = 1;
    dropped(lb, back, 1, DropReason::ip_ttl_exceeded);
    CHECK(state_of(lb, c) == SessionState::tcp_syn_recv);
    CHECK(lb.session(Net::client, c.cport, Net::vip, 80)->expires == deadline);
    CHECK(lb.real(TCP, Net::vip, 80, RS1).in_packets.get() == 1);
    CHECK(lb.real(TCP, Net::vip, 80, RS1).out_packets.get() == 0);
}

TEST_CASE("Forwarder: ICMP echo to local addresses is answered; other ICMP is not", "[forwarder]") {
    Lb lb;
    auto echo = [](uint32_t dst, uint8_t type, uint8_t code) {
        FrameSpec s = client_packet(0, dst, 0, 0, pkt::proto_icmp, 56);
        s.icmp_type = type;
        s.icmp_code = code;
        return s;
    };
    const Answering oks[] = {
        {"the VIP", Net::vip, Net::client_port, Net::port0_mac},
        {"the second VIP", Net::vip2, Net::client_port, Net::port0_mac},
        {"port 0's address", Net::port0_addr, Net::client_port, Net::port0_mac},
        {"port 1's address, from port 1", Net::port1_addr, Net::server_port, Net::port1_mac},
        {"the local address", Net::lip, Net::server_port, Net::port1_mac},
    };
    uint64_t replies = 0;
    for (const auto& k : oks) {
        INFO(k.what);
        FrameSpec req = echo(k.addr, pkt::icmp_echo_request, 0);
        FrameSpec rep = req;
        rep.src_mac = k.mac;
        rep.dst_mac = req.src_mac;
        rep.saddr = req.daddr;
        rep.daddr = req.saddr;
        rep.ttl = 64;
        rep.icmp_type = pkt::icmp_echo_reply;
        check_checksums(answer_in_place(lb, build_frame(req), k.port, build_frame(rep), false));
        CHECK(lb.fwd.counters().icmp_echo_replies.get() == ++replies);
    }
    dropped(lb, echo(Net::vip, 13, 0), 0, DropReason::icmp_unsupported);                // timestamp
    dropped(lb, echo(Net::vip, pkt::icmp_echo_request, 1), 0, DropReason::icmp_unsupported);
    dropped(lb, echo(Net::vip, pkt::icmp_echo_reply, 0), 0, DropReason::icmp_unsupported);
    dropped(lb, echo(Net::vip, 3, 4), 0, DropReason::icmp_unsupported);                 // frag needed
    dropped(lb, echo(Net::unknown, pkt::icmp_echo_request, 0), 0, DropReason::not_for_us);
    dropped(lb, echo(RS1, pkt::icmp_echo_request, 0), 0, DropReason::not_for_us);
    dropped(lb, echo(Net::vip, pkt::icmp_echo_request, 0), 7, DropReason::icmp_unsupported);  // no such port
    CHECK(lb.fwd.counters().icmp_echo_replies.get() == replies);
    CHECK(lb.fwd.sessions().size() == 0);
}

TEST_CASE("Forwarder: ARP", "[forwarder]") {
    Lb lb;
    auto request = [](uint32_t target) {
        ArpSpec a;
        a.eth_src = Net::client_gw_mac;
        a.sha = Net::client_gw_mac;
        a.spa = ip("192.0.2.254");
        a.tpa = target;
        a.eth_padding = 18;
        return a;
    };
    const Answering answered[] = {
        {"VIP on the clients' port", Net::vip, 0, Net::port0_mac},
        {"port 0's own address", Net::port0_addr, 0, Net::port0_mac},
        {"LIP on the servers' port", Net::lip, 1, Net::port1_mac},
        {"port 1's own address", Net::port1_addr, 1, Net::port1_mac},
    };
    uint64_t replies = 0;
    for (const auto& k : answered) {
        INFO(k.what);
        ArpSpec req = request(k.addr);
        ArpSpec rep = req;
        rep.eth_src = k.mac;
        rep.eth_dst = req.sha;
        rep.op = 2;
        rep.sha = k.mac;
        rep.spa = k.addr;
        rep.tha = req.sha;
        rep.tpa = req.spa;
        answer_in_place(lb, build_arp(req), k.port, build_arp(rep), true);
        CHECK(lb.fwd.counters().arp_replies.get() == ++replies);
    }

    struct Other {
        const char* what;
        ArpSpec spec;
        uint16_t port;
        Action action;
        DropReason reason;
    };
    auto with = [&](uint32_t target, auto edit) {
        ArpSpec a = request(target);
        edit(a);
        return a;
    };
    const Other others[] = {
        {"VIP asked on the servers' port", request(Net::vip), 1, Action::drop, DropReason::arp_not_for_us},
        {"LIP asked on the clients' port", request(Net::lip), 0, Action::drop, DropReason::arp_not_for_us},
        {"an address we do not own", request(Net::unknown), 0, Action::drop, DropReason::arp_not_for_us},
        {"a real server's address", request(RS1), 1, Action::drop, DropReason::arp_not_for_us},
        {"a port that does not exist", request(Net::vip), 5, Action::drop, DropReason::arp_not_for_us},
        {"ARP reply", with(Net::vip, [](ArpSpec& a) { a.op = 2; }), 0, Action::to_main, DropReason::none},
        {"ARP reply for someone else", with(Net::unknown, [](ArpSpec& a) { a.op = 2; }), 1, Action::to_main,
         DropReason::none},
        {"gratuitous ARP request", with(0, [](ArpSpec& a) { a.tpa = a.spa; }), 0, Action::to_main, DropReason::none},
        {"gratuitous ARP reply", with(0, [](ArpSpec& a) { a.tpa = a.spa; a.op = 2; }), 1, Action::to_main,
         DropReason::none},
        {"hardware type 6", with(Net::vip, [](ArpSpec& a) { a.htype = 6; }), 0, Action::drop,
         DropReason::arp_malformed},
        {"protocol type IPv6", with(Net::vip, [](ArpSpec& a) { a.ptype = 0x86dd; }), 0, Action::drop,
         DropReason::arp_malformed},
        {"hlen 8", with(Net::vip, [](ArpSpec& a) { a.hlen = 8; }), 0, Action::drop, DropReason::arp_malformed},
        {"plen 16", with(Net::vip, [](ArpSpec& a) { a.plen = 16; }), 0, Action::drop, DropReason::arp_malformed},
        {"opcode 3 (RARP)", with(Net::vip, [](ArpSpec& a) { a.op = 3; }), 0, Action::drop,
         DropReason::arp_malformed},
        {"opcode 0", with(Net::vip, [](ArpSpec& a) { a.op = 0; }), 0, Action::drop, DropReason::arp_malformed},
        {"opcode 3 with sender == target", with(0, [](ArpSpec& a) { a.tpa = a.spa; a.op = 3; }), 0, Action::drop,
         DropReason::arp_malformed},
    };
    for (const auto& k : others) {
        INFO(k.what);
        Bytes f = build_arp(k.spec);
        const Bytes before = f;
        fwd::Verdict v = lb.send_arp(f, k.port);
        CHECK(v.action == k.action);
        CHECK(v.reason == k.reason);
        CHECK(f == before);
    }
    // Too short to hold the ARP header.
    Bytes short_frame = build_arp(request(Net::vip));
    short_frame.resize(41);
    CHECK(lb.send_arp(short_frame, 0).reason == DropReason::arp_malformed);
    CHECK(lb.fwd.counters().arp_replies.get() == replies);
}

TEST_CASE("Forwarder with several workers: lports are the worker's own, replies come back to it", "[forwarder]") {
    for (unsigned n : {2u, 3u}) {
        for (unsigned w = 0; w < n; ++w) {
            INFO(n << " workers, worker " << w);
            LbOptions o;
            o.nworkers = n;
            o.worker = w;
            Lb lb(o);
            for (int i = 0; i < 5; ++i) {
                Conn c = syn_fullnat(lb, uint16_t(53000 + i), i % 2 ? RS2 : RS1);
                CHECK(c.lport % n == w);
                CHECK(c.lport == 1024 + (w + n - 1024 % n) % n + unsigned(i) * n);
                // The server's answer is owned by this worker.
                Bytes reply = build_frame(server_packet(c.rip, 8080, Net::lip, c.lport, SYN | ACK));
                pkt::ParsedIpv4 p;
                REQUIRE(pkt::parse_ipv4(reply.data(), uint32_t(reply.size()), true, p) == DropReason::none);
                CHECK(owner_of(p, *lb.snap) == w);
                server_to_client(lb, c, SYN | ACK);
            }
        }
    }
}

TEST_CASE("Forwarder: expire() honours its budget", "[forwarder]") {
    Lb lb;
    for (int i = 0; i < 10; ++i) syn_fullnat(lb, uint16_t(54000 + i), i % 2 ? RS2 : RS1);
    const Tick due = lb.now + 60000 + ExpiryWheel::slot_width;
    CHECK(lb.expire_at(due, 3) == 3);
    CHECK(lb.fwd.sessions().size() == 7);
    CHECK(lb.expire_at(due, 3) == 3);
    CHECK(lb.expire_at(due, 100) == 4);
    CHECK(lb.expire_at(due, 100) == 0);
    CHECK(lb.fwd.sessions().size() == 0);
    CHECK(lb.lip_pool().in_use() == 0);
    CHECK(lb.fwd.counters().sessions_expired.get() == 10);
}
