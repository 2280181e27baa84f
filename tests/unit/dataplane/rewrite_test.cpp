// rewrite_tuple golden packets: every (direction x protocol x content) input is rewritten
// and compared byte for byte with the expected frame built from scratch by the test's
// packet builder (so every checksum is also checked against a full recomputation).
#include "catch_print.hpp"
#include "dataplane/forward/rewrite.hpp"
#include "packet_builder.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

struct Endpoint {
    uint32_t addr;
    uint16_t port;  // host order
};
const Endpoint client{ip("198.51.100.7"), 40000}, vip{ip("192.0.2.100"), 80}, lip{ip("10.0.0.200"), 5001},
    rip{ip("10.0.0.11"), 8080};

struct Direction {
    const char* what;
    Endpoint in_src, in_dst, out_src, out_dst;
};
const Direction directions[] = {
    {"FULLNAT client->VIP becomes LIP->RIP", client, vip, lip, rip},
    {"FULLNAT RIP->LIP becomes VIP->client", rip, lip, vip, client},
    {"NAT client->VIP becomes client->RIP", client, vip, client, rip},
    {"NAT RIP->client becomes VIP->client", rip, client, vip, client},
};

struct Content {
    const char* what;
    void (*apply)(FrameSpec&);
};
const Content contents[] = {
    {"no options, no payload", [](FrameSpec&) {}},
    {"IP options (12 B), TCP options (20 B), odd payload (101 B)",
     [](FrameSpec& s) {
         s.ip_options = ip_options_of_words(3);
         s.tcp_options = tcp_options_mss_sack_ts();
         s.payload = payload_of(101);
     }},
    {"40 B of IP options, 1 B payload, TOS and DF set",
     [](FrameSpec& s) {
         s.ip_options = ip_options_of_words(10);
         s.payload = payload_of(1, 0xa5);
         s.tos = 0xb8;
         s.frag = 0x4000;
     }},
    {"payload 1400 B, 18 B of Ethernet padding",
     [](FrameSpec& s) {
         s.payload = payload_of(1400, 3);
         s.eth_padding = 18;
     }},
    {"TTL 2 (the lowest that is forwarded)", [](FrameSpec& s) { s.ttl = 2; }},
    {"TTL 255, ACK|PSH", [](FrameSpec& s) {
         s.ttl = 255;
         s.tcp_flags = pkt::tcp_ack | pkt::tcp_psh;
         s.payload = payload_of(7);
     }},
};

FrameSpec spec_between(Endpoint src, Endpoint dst, uint8_t proto) {
    FrameSpec s;
    s.proto = proto;
    s.saddr = src.addr;
    s.daddr = dst.addr;
    s.sport = src.port;
    s.dport = dst.port;
    return s;
}

// The input/expected pair for one case: the expected frame differs only in the tuple and TTL.
struct Golden {
    FrameSpec in, out;
};
Golden golden(const Direction& d, uint8_t proto, const FrameSpec& content) {
    Golden g;
    g.in = content;
    g.in.proto = proto;
    g.in.saddr = d.in_src.addr;
    g.in.daddr = d.in_dst.addr;
    g.in.sport = d.in_src.port;
    g.in.dport = d.in_dst.port;
    g.out = g.in;
    g.out.saddr = d.out_src.addr;
    g.out.daddr = d.out_dst.addr;
    g.out.sport = d.out_src.port;
    g.out.dport = d.out_dst.port;
    g.out.ttl = uint8_t(g.in.ttl - 1);
    return g;
}

fwd::Tuple tuple_of(const FrameSpec& out) {
    return fwd::Tuple{out.saddr, out.daddr, be16(out.sport), be16(out.dport)};
}

// Parses g.in, rewrites it to g.out's tuple and checks the result against build_frame(g.out).
void check_golden(const Golden& g) {
    Bytes f = build_frame(g.in);
    const Bytes want = build_frame(g.out);
    pkt::ParsedIpv4 p;
    REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
    REQUIRE(fwd::rewrite_tuple(p, tuple_of(g.out)));
    INFO(describe_difference(f, want));
    CHECK(f == want);
    check_checksums(f, g.out.udp_no_checksum);
    // The fields, spelled out, and the parsed view kept in step with the bytes.
    CHECK(ip_of(f).saddr == g.out.saddr);
    CHECK(ip_of(f).daddr == g.out.daddr);
    CHECK(ip_of(f).ttl == g.in.ttl - 1);
    const uint16_t* ports = pkt::at<uint16_t>(f.data(), unsigned(l4_offset_of(f)));
    CHECK(ports[0] == be16(g.out.sport));
    CHECK(ports[1] == be16(g.out.dport));
    CHECK(p.saddr == g.out.saddr);
    CHECK(p.daddr == g.out.daddr);
    CHECK(p.sport == be16(g.out.sport));
    CHECK(p.dport == be16(g.out.dport));
    // The rewritten frame parses again, with a valid IP checksum.
    pkt::ParsedIpv4 again;
    CHECK(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, again) == DropReason::none);
}

}  // namespace

TEST_CASE("rewrite_tuple golden packets: FULLNAT and NAT, both directions, TCP and UDP", "[rewrite]") {
    for (const auto& d : directions)
        for (uint8_t proto : {pkt::proto_tcp, pkt::proto_udp})
            for (const auto& c : contents) {
                FrameSpec content;
                c.apply(content);
                if (proto == pkt::proto_udp) content.tcp_options.clear();
                INFO(d.what << " / " << (proto == pkt::proto_tcp ? "TCP" : "UDP") << " / " << c.what);
                check_golden(golden(d, proto, content));
            }
}

TEST_CASE("rewrite_tuple: a UDP checksum of 0 (none) stays 0", "[rewrite]") {
    for (const auto& d : directions) {
        INFO(d.what);
        FrameSpec content;
        content.udp_no_checksum = true;
        content.payload = payload_of(33);
        Golden g = golden(d, pkt::proto_udp, content);
        check_golden(g);
        Bytes f = build_frame(g.in);
        pkt::ParsedIpv4 p;
        REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
        REQUIRE(fwd::rewrite_tuple(p, tuple_of(g.out)));
        CHECK(udp_of(f).checksum == 0);
    }
}

TEST_CASE("rewrite_tuple: a checksum that computes to 0 is sent as 0xffff (UDP) and as 0 (TCP)", "[rewrite]") {
    for (const auto& d : directions)
        for (uint8_t proto : {pkt::proto_udp, pkt::proto_tcp}) {
            INFO(d.what << (proto == pkt::proto_udp ? " / UDP" : " / TCP"));
            FrameSpec content;
            content.payload = payload_of(24);
            Golden g = golden(d, proto, content);
            g.out.payload = payload_for_zero_l4_checksum(g.out);
            g.in.payload = g.out.payload;
            Bytes in = build_frame(g.in), out = build_frame(g.out);
            // The construction worked: the input has an ordinary checksum, the output a zero one.
            REQUIRE(recompute_checksums(out).l4_computed == (proto == pkt::proto_udp ? 0xffff : 0));
            REQUIRE(recompute_checksums(in).l4_computed != 0);
            REQUIRE(recompute_checksums(in).l4_computed != 0xffff);
            check_golden(g);
            const uint16_t stored = proto == pkt::proto_udp ? udp_of(out).checksum : tcp_of(out).checksum;
            CHECK(stored == (proto == pkt::proto_udp ? 0xffff : 0));
            // And back: a UDP datagram carrying 0xffff is rewritten like any other.
            Golden back{g.out, g.in};
            back.in.ttl = g.in.ttl;
            back.out.ttl = uint8_t(g.in.ttl - 1);
            check_golden(back);
        }
}

TEST_CASE("rewrite_tuple: TTL 1 and 0 are refused and the frame is untouched", "[rewrite]") {
    for (uint8_t ttl : {uint8_t(1), uint8_t(0)})
        for (uint8_t proto : {pkt::proto_tcp, pkt::proto_udp}) {
            INFO("TTL " << int(ttl) << (proto == pkt::proto_tcp ? " TCP" : " UDP"));
            FrameSpec content;
            content.ttl = ttl;
            content.payload = payload_of(10);
            Golden g = golden(directions[0], proto, content);
            Bytes f = build_frame(g.in);
            const Bytes before = f;
            pkt::ParsedIpv4 p;
            REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
            const pkt::ParsedIpv4 parsed = p;
            CHECK_FALSE(fwd::rewrite_tuple(p, tuple_of(g.out)));
            CHECK(f == before);
            CHECK(p.saddr == parsed.saddr);
            CHECK(p.daddr == parsed.daddr);
            CHECK(p.sport == parsed.sport);
            CHECK(p.dport == parsed.dport);
        }
}

TEST_CASE("decrement_ttl alone: exact TTL and checksum for every TTL", "[rewrite]") {
    for (unsigned ttl = 0; ttl <= 255; ++ttl) {
        FrameSpec s = spec_between(client, vip, pkt::proto_tcp);
        s.ttl = uint8_t(ttl);
        Bytes f = build_frame(s);
        const Bytes before = f;
        fwd::CsumDelta d;
        bool ok = fwd::decrement_ttl(&ip_of(f), d);
        INFO("TTL " << ttl);
        CHECK(ok == (ttl > 1));
        if (!ok) {
            CHECK(f == before);
            continue;
        }
        ip_of(f).checksum = d.apply(ip_of(f).checksum);
        s.ttl = uint8_t(ttl - 1);
        CHECK(f == build_frame(s));
    }
}
