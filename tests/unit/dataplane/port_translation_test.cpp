// Services whose real servers listen on another port than the VIP's (VIP:4443 -> RS:8443 NAT,
// VIP:5300 -> RS:53 NAT UDP, VIP:80 -> RS:8080 FULLNAT): both directions of a connection, each
// frame compared byte for byte with one built from scratch (every checksum recomputed), and
// the ports spelled out, since a reply that left with the server's port instead of the VIP's
// passed every test while all NAT services used one port on both sides. Also with several
// workers: the reply, which carries the server's port, is owned where the connection is.
#include "catch_print.hpp"
#include "forwarder_fixture.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack, FIN = pkt::tcp_fin, PSH = pkt::tcp_psh;
constexpr uint8_t TCP = pkt::proto_tcp, UDP = pkt::proto_udp;

struct Translated {
    const char* what;
    uint8_t proto;
    uint16_t vport;
    uint32_t rip;
    uint16_t rport;
    bool fullnat;
};
const Translated services[] = {
    {"NAT TCP VIP:4443 -> RS7:8443", TCP, 4443, ip("10.0.0.71"), 8443, false},
    {"NAT UDP VIP:5300 -> RS8:53", UDP, 5300, ip("10.0.0.81"), 53, false},
    {"FULLNAT TCP VIP:80 -> RS:8080", TCP, 80, 0, 8080, true},
    {"FULLNAT UDP VIP:53 -> RS5:5353", UDP, 53, ip("10.0.0.31"), 5353, true},
};

uint16_t sport_of(const Bytes& f, uint8_t proto) { return be16(proto == TCP ? tcp_of(f).sport : udp_of(f).sport); }
uint16_t dport_of(const Bytes& f, uint8_t proto) { return be16(proto == TCP ? tcp_of(f).dport : udp_of(f).dport); }

// Sends `in` on `port`; requires exactly `want` (and valid checksums) to leave toward want.daddr.
Bytes exact(Lb& lb, const FrameSpec& in, uint16_t port, const FrameSpec& want) {
    Bytes got = expect_forward(lb, in, port, want.daddr);
    const Bytes w = build_frame(want);
    INFO(describe_difference(got, w));
    CHECK(got == w);
    check_checksums(got, want.udp_no_checksum);
    return got;
}

}  // namespace

TEST_CASE("Port-translating services: both directions, every field and checksum", "[forwarder][ports]") {
    for (const auto& t : services)
        for (uint8_t flags_set : {0, 1}) {
            INFO(t.what << (flags_set ? " / with IP and TCP options, 1400 B" : " / plain"));
            Lb lb;
            const uint16_t cport = uint16_t(47000 + flags_set);
            FrameSpec first = client_packet(cport, Net::vip, t.vport, SYN, t.proto, flags_set ? 1400 : 20);
            if (flags_set) {
                first.ip_options = ip_options_of_words(3);
                if (t.proto == TCP) first.tcp_options = tcp_options_mss_sack_ts();
            }
            Bytes raw = build_frame(first);
            const fwd::Verdict v = lb.send(raw, Net::client_port);
            REQUIRE(v.action == fwd::Verdict::Action::forward);
            const uint32_t rip = v.route_to;
            if (t.rip) CHECK(rip == t.rip);
            // To the server: its own port, from the client (NAT) or the local address (FULLNAT).
            const uint32_t src = t.fullnat ? Net::lip : Net::client;
            const uint16_t sport = t.fullnat ? sport_of(raw, t.proto) : cport;
            const Bytes want_in = build_frame(rewritten(first, src, sport, rip, t.rport));
            INFO(describe_difference(raw, want_in));
            CHECK(raw == want_in);
            check_checksums(raw);
            CHECK(dport_of(raw, t.proto) == t.rport);
            CHECK(ip_of(raw).daddr == rip);

            // Back to the client: from the VIP and the VIP's port, never the server's.
            FrameSpec answer = server_packet(rip, t.rport, src, sport, SYN | ACK, t.proto, flags_set ? 1200 : 0);
            const Bytes out = exact(lb, answer, Net::server_port, rewritten(answer, Net::vip, t.vport, Net::client, cport));
            CHECK(sport_of(out, t.proto) == t.vport);
            CHECK(sport_of(out, t.proto) != t.rport);
            CHECK(dport_of(out, t.proto) == cport);
            CHECK(ip_of(out).saddr == Net::vip);

            // The rest of the exchange keeps both translations.
            FrameSpec more = client_packet(cport, Net::vip, t.vport, ACK | PSH, t.proto, 333);
            exact(lb, more, Net::client_port, rewritten(more, src, sport, rip, t.rport));
            FrameSpec data = server_packet(rip, t.rport, src, sport, ACK | PSH, t.proto, 1000);
            exact(lb, data, Net::server_port, rewritten(data, Net::vip, t.vport, Net::client, cport));
            if (t.proto == TCP) {
                FrameSpec fin = server_packet(rip, t.rport, src, sport, FIN | ACK, t.proto, 0);
                exact(lb, fin, Net::server_port, rewritten(fin, Net::vip, t.vport, Net::client, cport));
            }
            const Session* s = lb.session(Net::client, cport, Net::vip, t.vport, t.proto);
            REQUIRE(s);
            CHECK(s->reply.sport == be16(t.rport));
            CHECK(s->orig.dport == be16(t.vport));
        }
}

TEST_CASE("Port-translating NAT: a UDP datagram without checksum keeps none, both ways", "[forwarder][ports]") {
    Lb lb;
    const Translated& t = services[1];
    FrameSpec q = client_packet(47100, Net::vip, t.vport, 0, UDP, 12);
    q.udp_no_checksum = true;
    const Bytes in = exact(lb, q, Net::client_port, rewritten(q, Net::client, 47100, t.rip, t.rport));
    CHECK(udp_of(in).checksum == 0);
    FrameSpec r = server_packet(t.rip, t.rport, Net::client, 47100, 0, UDP, 40);
    r.udp_no_checksum = true;
    const Bytes out = exact(lb, r, Net::server_port, rewritten(r, Net::vip, t.vport, Net::client, 47100));
    CHECK(udp_of(out).checksum == 0);
    CHECK(be16(udp_of(out).sport) == t.vport);
}

TEST_CASE("Port-translating NAT with several workers: the server's reply is owned by the connection's worker",
          "[forwarder][ports][owner]") {
    for (unsigned n : {2u, 4u})
        for (unsigned w = 0; w < n; ++w)
            for (const auto& t : services) {
                if (t.fullnat) continue;  // FULLNAT replies are steered by local port (owner_test)
                LbOptions o;
                o.nworkers = n;
                o.worker = w;
                Lb lb(o);
                unsigned done = 0;
                for (uint16_t cport = 48000; done < 4; ++cport) {
                    const FrameSpec first = client_packet(cport, Net::vip, t.vport, SYN, t.proto, 8);
                    if (lb.owner(first) != w) continue;
                    INFO(n << " workers, worker " << w << ", " << t.what << ", client port " << cport);
                    expect_forward(lb, first, Net::client_port, t.rip);
                    const FrameSpec reply = server_packet(t.rip, t.rport, Net::client, cport, SYN | ACK, t.proto, 8);
                    CHECK(lb.owner(reply) == w);
                    exact(lb, reply, Net::server_port, rewritten(reply, Net::vip, t.vport, Net::client, cport));
                    ++done;
                }
            }
}
