// Answers built in place: ICMP echo replies and ARP replies, plus ARP requests and
// gratuitous ARP written from nothing. Each result is compared with a frame built from
// scratch by the test's packet builder.
#include <algorithm>

#include "catch_print.hpp"
#include "dataplane/forward/local_reply.hpp"
#include "packet_builder.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

const pkt::Mac our_mac = mac(0x10);
const pkt::Mac peer_mac = mac(0x77, 0x0a);

FrameSpec echo_request(void (*variant)(FrameSpec&)) {
    FrameSpec s;
    s.proto = pkt::proto_icmp;
    s.src_mac = peer_mac;
    s.dst_mac = our_mac;
    s.saddr = ip("198.51.100.7");
    s.daddr = ip("192.0.2.100");
    s.ttl = 57;
    s.ip_id = 0xbeef;
    s.icmp_id = 0x1f2e;
    s.icmp_seq = 513;
    s.payload = payload_of(56);
    variant(s);
    return s;
}

}  // namespace

TEST_CASE("make_icmp_echo_reply: the reply equals one built from scratch", "[local_reply]") {
    struct Variant {
        const char* what;
        void (*apply)(FrameSpec&);
    };
    const Variant variants[] = {
        {"56 B payload", [](FrameSpec&) {}},
        {"no payload", [](FrameSpec& s) { s.payload.clear(); }},
        {"odd payload (1 B)", [](FrameSpec& s) { s.payload = payload_of(1, 0xfe); }},
        {"large odd payload (1471 B)", [](FrameSpec& s) { s.payload = payload_of(1471, 9); }},
        {"IP options, TOS, DF", [](FrameSpec& s) {
             s.ip_options = ip_options_of_words(2);
             s.tos = 0x10;
             s.frag = 0x4000;
         }},
        {"TTL 1 (a local reply is not forwarded)", [](FrameSpec& s) { s.ttl = 1; }},
        {"TTL 64 already", [](FrameSpec& s) { s.ttl = 64; }},
        {"TTL 255, Ethernet padding", [](FrameSpec& s) {
             s.ttl = 255;
             s.payload = payload_of(4);
             s.eth_padding = 14;
         }},
    };
    for (const auto& v : variants) {
        INFO(v.what);
        FrameSpec req = echo_request(v.apply);
        FrameSpec rep = req;
        rep.src_mac = our_mac;
        rep.dst_mac = peer_mac;
        rep.saddr = req.daddr;
        rep.daddr = req.saddr;
        rep.ttl = fwd::local_reply_ttl;
        rep.icmp_type = pkt::icmp_echo_reply;
        Bytes f = build_frame(req);
        pkt::ParsedIpv4 p;
        REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
        fwd::make_icmp_echo_reply(p, our_mac);
        const Bytes want = build_frame(rep);
        INFO(describe_difference(f, want));
        CHECK(f == want);
        check_checksums(f);
        CHECK(ip_of(f).ttl == 64);
        CHECK(icmp_of(f).type == 0);
        CHECK(icmp_of(f).code == 0);
        CHECK(eth_of(f).src == our_mac);
        CHECK(eth_of(f).dst == peer_mac);
        CHECK(p.saddr == req.daddr);
        CHECK(p.daddr == req.saddr);
    }
}

TEST_CASE("make_arp_reply: every field of the reply", "[local_reply]") {
    for (size_t padding : {size_t(0), size_t(18)}) {
        INFO("padding " << padding);
        ArpSpec req;
        req.eth_src = peer_mac;
        req.eth_dst = pkt::broadcast_mac;
        req.op = 1;
        req.sha = peer_mac;
        req.spa = ip("192.0.2.7");
        req.tha = mac(0x99);  // whatever the requester put there
        req.tpa = ip("192.0.2.100");
        req.eth_padding = padding;
        Bytes f = build_arp(req);

        ArpSpec rep = req;
        rep.eth_src = our_mac;
        rep.eth_dst = peer_mac;
        rep.op = 2;
        rep.sha = our_mac;
        rep.spa = req.tpa;
        rep.tha = peer_mac;
        rep.tpa = req.spa;
        fwd::make_arp_reply(f.data(), our_mac);
        const Bytes want = build_arp(rep);
        INFO(describe_difference(f, want));
        CHECK(f == want);
        const pkt::ArpHdr& a = arp_of(f);
        CHECK(a.op_be == pkt::arp_op_reply_be);
        CHECK(a.htype_be == pkt::arp_htype_ether_be);
        CHECK(a.ptype_be == pkt::ethertype_ipv4_be);
        CHECK(a.hlen == 6);
        CHECK(a.plen == 4);
        CHECK(a.sha == our_mac);
        CHECK(a.spa == ip("192.0.2.100"));
        CHECK(a.tha == peer_mac);
        CHECK(a.tpa == ip("192.0.2.7"));
        CHECK(eth_of(f).type_be == pkt::ethertype_arp_be);
    }
}

TEST_CASE("build_arp_request: request, unicast probe and gratuitous ARP", "[local_reply]") {
    struct Req {
        const char* what;
        uint32_t sender, target;
        pkt::Mac dst;
        bool default_dst;
    };
    const Req reqs[] = {
        {"request", ip("10.0.0.1"), ip("10.0.0.11"), pkt::broadcast_mac, true},
        {"gratuitous", ip("192.0.2.100"), ip("192.0.2.100"), pkt::broadcast_mac, true},
        {"unicast refresh", ip("10.0.0.1"), ip("10.0.0.11"), peer_mac, false},
    };
    for (const auto& r : reqs) {
        INFO(r.what);
        Bytes buf(64, 0xcc);
        unsigned n = r.default_dst ? fwd::build_arp_request(buf.data(), our_mac, r.sender, r.target)
                                   : fwd::build_arp_request(buf.data(), our_mac, r.sender, r.target, r.dst);
        CHECK(n == 42);
        ArpSpec want;
        want.eth_src = our_mac;
        want.eth_dst = r.dst;
        want.op = 1;
        want.sha = our_mac;
        want.spa = r.sender;
        want.tha = pkt::Mac{};
        want.tpa = r.target;
        Bytes got(buf.begin(), buf.begin() + 42);
        const Bytes w = build_arp(want);
        INFO(describe_difference(got, w));
        CHECK(got == w);
        CHECK(std::all_of(buf.begin() + 42, buf.end(), [](uint8_t b) { return b == 0xcc; }));  // nothing beyond
    }
}
