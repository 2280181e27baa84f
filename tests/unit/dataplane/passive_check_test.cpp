// Passive checks (docs/architecture.md, "Passive checks"): per real server, connections whose
// SYN it left unanswered and resets it sent before ESTABLISHED, counted on crafted packets.
// Only NAT and FULLNAT see the server's side; DR and TUN count nothing.
#include "catch_print.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using Action = fwd::Verdict::Action;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack, RST = pkt::tcp_rst;
constexpr uint8_t TCP = pkt::proto_tcp;
const uint32_t RS1 = ip("10.0.0.11"), RS2 = ip("10.0.0.12"), RS3 = ip("10.0.0.21");

void send_ok(Lb& lb, const FrameSpec& in, uint16_t port) {
    Bytes f = build_frame(in);
    fwd::Verdict v = lb.send(f, port);
    INFO("dropped for " << to_string(v.reason));
    REQUIRE(v.action == Action::forward);
}

// Client SYN to VIP:80 (FULLNAT, rr: RS1 first); returns the local port it took.
uint16_t syn80(Lb& lb, uint16_t cport) {
    Bytes f = build_frame(client_packet(cport, Net::vip, 80, SYN));
    REQUIRE(lb.send(f, Net::client_port).action == Action::forward);
    return be16(tcp_of(f).sport);
}

uint64_t syn_timeouts(const Lb& lb, uint32_t rip, uint16_t port = 80) {
    return lb.real(TCP, Net::vip, port, rip).syn_timeouts.get();
}
uint64_t resets(const Lb& lb, uint32_t rip, uint16_t port = 80) {
    return lb.real(TCP, Net::vip, port, rip).resets_before_established.get();
}

}  // namespace

TEST_CASE("Passive: a SYN retried 900 ms or more after the first, unanswered, is one SYN timeout", "[passive]") {
    Lb lb;
    const Tick t0 = lb.now;
    syn80(lb, 54000);
    const FrameSpec again = client_packet(54000, Net::vip, 80, SYN);
    lb.now = t0 + 500;
    send_ok(lb, again, Net::client_port);  // too soon: a duplicate, not a timeout
    lb.now = t0 + fwd::passive_syn_timeout_ms - 1;
    send_ok(lb, again, Net::client_port);
    CHECK(syn_timeouts(lb, RS1) == 0);
    lb.now = t0 + 1000;  // the client's first retransmission (initial RTO 1 s)
    send_ok(lb, again, Net::client_port);
    CHECK(syn_timeouts(lb, RS1) == 1);
    lb.now = t0 + 3000;  // the second: the same connection, counted once
    send_ok(lb, again, Net::client_port);
    CHECK(syn_timeouts(lb, RS1) == 1);
    CHECK(syn_timeouts(lb, RS2) == 0);
    // ...and not again when it expires.
    lb.expire_at(lb.now + 61000);
    CHECK(lb.fwd.sessions().size() == 0);
    CHECK(syn_timeouts(lb, RS1) == 1);
}

TEST_CASE("Passive: exactly passive_syn_timeout_ms counts", "[passive]") {
    Lb lb;
    syn80(lb, 54050);
    lb.now += fwd::passive_syn_timeout_ms;
    send_ok(lb, client_packet(54050, Net::vip, 80, SYN), Net::client_port);
    CHECK(syn_timeouts(lb, RS1) == 1);
}

TEST_CASE("Passive: a SYN retried after the server answered is no timeout", "[passive]") {
    Lb lb;
    const uint16_t lport = syn80(lb, 54100);
    send_ok(lb, server_packet(RS1, 8080, Net::lip, lport, SYN | ACK), Net::server_port);
    lb.now += 2000;
    send_ok(lb, client_packet(54100, Net::vip, 80, SYN), Net::client_port);  // the SYN-ACK was lost
    lb.expire_at(lb.now + 61000);
    CHECK(syn_timeouts(lb, RS1) == 0);
}

TEST_CASE("Passive: a session expiring in a SYN state unanswered is a SYN timeout", "[passive]") {
    Lb lb;
    syn80(lb, 54200);                                        // RS1: never answers
    const uint16_t answered = syn80(lb, 54201);              // RS2: answers, the client never acks
    send_ok(lb, server_packet(RS2, 8080, Net::lip, answered, SYN | ACK), Net::server_port);
    lb.expire_at(lb.now + 59000);
    CHECK(syn_timeouts(lb, RS1) == 0);
    lb.expire_at(lb.now + 2000 + ExpiryWheel::slot_width);
    CHECK(lb.fwd.sessions().size() == 0);
    CHECK(syn_timeouts(lb, RS1) == 1);
    CHECK(syn_timeouts(lb, RS2) == 0);
}

TEST_CASE("Passive: a reset from the server before ESTABLISHED counts, after it does not", "[passive]") {
    Lb lb;
    SECTION("FULLNAT, refused: SYN_RECV") {
        const uint16_t lport = syn80(lb, 54300);
        send_ok(lb, server_packet(RS1, 8080, Net::lip, lport, RST | ACK), Net::server_port);
        CHECK(resets(lb, RS1) == 1);
        CHECK(lb.session(Net::client, 54300, Net::vip, 80)->state == SessionState::tcp_close);
    }
    SECTION("FULLNAT, reset after its SYN-ACK") {
        const uint16_t lport = syn80(lb, 54301);
        send_ok(lb, server_packet(RS1, 8080, Net::lip, lport, SYN | ACK), Net::server_port);
        send_ok(lb, server_packet(RS1, 8080, Net::lip, lport, RST), Net::server_port);
        CHECK(resets(lb, RS1) == 1);
        CHECK(syn_timeouts(lb, RS1) == 0);
    }
    SECTION("NAT") {
        send_ok(lb, client_packet(54302, Net::vip, 443, SYN), Net::client_port);
        send_ok(lb, server_packet(RS3, 443, Net::client, 54302, RST | ACK), Net::server_port);
        CHECK(resets(lb, RS3, 443) == 1);
    }
    SECTION("established: a reset then is no failed connection") {
        const uint16_t lport = syn80(lb, 54303);
        send_ok(lb, server_packet(RS1, 8080, Net::lip, lport, SYN | ACK), Net::server_port);
        send_ok(lb, client_packet(54303, Net::vip, 80, ACK), Net::client_port);
        send_ok(lb, server_packet(RS1, 8080, Net::lip, lport, RST), Net::server_port);
        CHECK(resets(lb, RS1) == 0);
    }
    SECTION("a reset from the client counts nothing") {
        syn80(lb, 54304);
        send_ok(lb, client_packet(54304, Net::vip, 80, RST), Net::client_port);
        CHECK(resets(lb, RS1) == 0);
    }
}

TEST_CASE("Passive: DR and TUN see no reply and count nothing", "[passive]") {
    Lb lb(dr_tun_options());
    const Tick t0 = lb.now;
    for (uint16_t vport : {uint16_t(80), uint16_t(443)}) {
        send_ok(lb, client_packet(54400, Net::vip, vport, SYN), Net::client_port);
        lb.now = t0 + 2000;
        send_ok(lb, client_packet(54400, Net::vip, vport, SYN), Net::client_port);
        lb.now = t0;
    }
    lb.expire_at(t0 + 200000);
    CHECK(lb.fwd.sessions().size() == 0);
    for (uint32_t rip : {DrTunNet::d1, DrTunNet::t1}) {
        const uint16_t vport = rip == DrTunNet::d1 ? 80 : 443;
        CHECK(lb.real(TCP, Net::vip, vport, rip).syn_timeouts.get() == 0);
        CHECK(lb.real(TCP, Net::vip, vport, rip).resets_before_established.get() == 0);
    }
}
