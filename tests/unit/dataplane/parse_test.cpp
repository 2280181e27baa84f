// classify_frame and parse_ipv4 on crafted frames: one table of (description, frame,
// checksum verification, expected drop reason), malformed frames included, then the parsed
// fields of the valid ones.
#include <functional>

#include "catch_print.hpp"
#include "dataplane/packet/parse.hpp"
#include "packet_builder.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

FrameSpec tcp_spec() {
    FrameSpec s;
    s.saddr = ip("198.51.100.7");
    s.daddr = ip("192.0.2.100");
    s.sport = 40000;
    s.dport = 80;
    s.tcp_flags = pkt::tcp_syn;
    return s;
}
FrameSpec udp_spec(size_t payload = 12) {
    FrameSpec s = tcp_spec();
    s.proto = pkt::proto_udp;
    s.dport = 53;
    s.payload = payload_of(payload);
    return s;
}
FrameSpec icmp_spec(size_t payload = 56) {
    FrameSpec s = tcp_spec();
    s.proto = pkt::proto_icmp;
    s.payload = payload_of(payload);
    return s;
}

// Frame from `s`, then `edit` applied; the IP checksum is recomputed after the edit unless
// `keep_checksum` (so a test of one field is not a test of the checksum).
Bytes mangled(const FrameSpec& s, const std::function<void(Bytes&)>& edit, bool keep_checksum = false) {
    Bytes f = build_frame(s);
    edit(f);
    if (!keep_checksum && f.size() >= pkt::l3_offset + 20) fix_ip_checksum(f);
    return f;
}
void set_total_length(Bytes& f, uint16_t total) { ip_of(f).total_length_be = be16(total); }
// Cuts the IP packet (and frame) to `ip_bytes`, keeping the header's total length consistent.
void truncate_ip(Bytes& f, uint16_t ip_bytes) {
    f.resize(pkt::l3_offset + ip_bytes);
    set_total_length(f, ip_bytes);
}
void set_frag(Bytes& f, uint16_t host) { ip_of(f).frag_be = be16(host); }
size_t l4(const Bytes& f) { return l4_offset_of(f); }

struct Case {
    std::string what;
    Bytes frame;
    bool verify;
    DropReason want;
};

std::vector<Case> cases() {
    const size_t tcp_ip_len = 40;
    std::vector<Case> c = {
        {"valid TCP SYN", build_frame(tcp_spec()), true, DropReason::none},
        {"valid UDP", build_frame(udp_spec()), true, DropReason::none},
        {"valid ICMP echo", build_frame(icmp_spec()), true, DropReason::none},
        {"Ethernet padding after the IP packet", [] { auto s = udp_spec(1); s.eth_padding = 17; return build_frame(s); }(),
         true, DropReason::none},
        {"frame of 33 bytes (IP header cut by one byte)", mangled(tcp_spec(), [](Bytes& f) { f.resize(33); }, true), true,
         DropReason::ip_truncated},
        {"frame of only an Ethernet header", mangled(tcp_spec(), [](Bytes& f) { f.resize(14); }, true), true,
         DropReason::ip_truncated},
        {"IP version 6", mangled(tcp_spec(), [](Bytes& f) { f[14] = 0x65; }), true, DropReason::ip_bad_version},
        {"IP version 0", mangled(tcp_spec(), [](Bytes& f) { f[14] = 0x05; }), true, DropReason::ip_bad_version},
        {"IHL 4", mangled(tcp_spec(), [](Bytes& f) { f[14] = 0x44; }, true), false, DropReason::ip_bad_ihl},
        {"IHL 0", mangled(tcp_spec(), [](Bytes& f) { f[14] = 0x40; }, true), false, DropReason::ip_bad_ihl},
        {"IHL 15 in a frame too short for 60 header bytes", mangled(tcp_spec(), [](Bytes& f) { f[14] = 0x4f; }, true),
         false, DropReason::ip_truncated},
        {"IHL*4 (24) > total length (22)",
         mangled([] { auto s = tcp_spec(); s.ip_options = ip_options_of_words(1); return s; }(),
                 [](Bytes& f) { set_total_length(f, 22); }),
         true, DropReason::ip_bad_ihl},
        {"total length 19", mangled(tcp_spec(), [](Bytes& f) { set_total_length(f, 19); }), true,
         DropReason::ip_bad_total_length},
        {"total length 0", mangled(tcp_spec(), [](Bytes& f) { set_total_length(f, 0); }), true,
         DropReason::ip_bad_total_length},
        {"total length one byte beyond the frame",
         mangled(tcp_spec(), [&](Bytes& f) { set_total_length(f, uint16_t(tcp_ip_len + 1)); }), true,
         DropReason::ip_bad_total_length},
        {"frame cut one byte short of the total length",
         mangled(udp_spec(), [](Bytes& f) { f.pop_back(); }, true), true, DropReason::ip_bad_total_length},
        {"bad IP checksum, verified", mangled(tcp_spec(), [](Bytes& f) { f[24] ^= 0x01; }, true), true,
         DropReason::ip_bad_checksum},
        {"bad IP checksum, not verified", mangled(tcp_spec(), [](Bytes& f) { f[24] ^= 0x01; }, true), false,
         DropReason::none},
        {"MF set, offset 0", mangled(tcp_spec(), [](Bytes& f) { set_frag(f, 0x2000); }), true, DropReason::ip_fragment},
        {"offset 1, MF clear (last fragment)", mangled(tcp_spec(), [](Bytes& f) { set_frag(f, 0x0001); }), true,
         DropReason::ip_fragment},
        {"offset 0x1fff", mangled(tcp_spec(), [](Bytes& f) { set_frag(f, 0x1fff); }), true, DropReason::ip_fragment},
        {"offset 0x100 (high offset byte only)", mangled(tcp_spec(), [](Bytes& f) { set_frag(f, 0x0100); }), true,
         DropReason::ip_fragment},
        {"DF and MF", mangled(tcp_spec(), [](Bytes& f) { set_frag(f, 0x6000); }), true, DropReason::ip_fragment},
        {"DF alone is not a fragment", mangled(tcp_spec(), [](Bytes& f) { set_frag(f, 0x4000); }), true,
         DropReason::none},
        {"TCP segment of 19 bytes", mangled(tcp_spec(), [](Bytes& f) { truncate_ip(f, 20 + 19); }), true,
         DropReason::l4_truncated},
        {"TCP segment of 0 bytes", mangled(tcp_spec(), [](Bytes& f) { truncate_ip(f, 20); }), true,
         DropReason::l4_truncated},
        {"TCP data offset 4", mangled(tcp_spec(), [](Bytes& f) { f[l4(f) + 12] = 0x40; }), true,
         DropReason::tcp_bad_data_offset},
        {"TCP data offset 0", mangled(tcp_spec(), [](Bytes& f) { f[l4(f) + 12] = 0x00; }), true,
         DropReason::tcp_bad_data_offset},
        {"TCP data offset 6 in a 20-byte segment", mangled(tcp_spec(), [](Bytes& f) { f[l4(f) + 12] = 0x60; }), true,
         DropReason::tcp_bad_data_offset},
        {"TCP data offset 15 with 20 option bytes (40 < 60)",
         mangled([] { auto s = tcp_spec(); s.tcp_options = tcp_options_mss_sack_ts(); return s; }(),
                 [](Bytes& f) { f[l4(f) + 12] = 0xf0; }),
         true, DropReason::tcp_bad_data_offset},
        {"TCP options filling the segment exactly",
         [] { auto s = tcp_spec(); s.tcp_options = tcp_options_mss_sack_ts(); return build_frame(s); }(), true,
         DropReason::none},
        {"UDP datagram of 7 bytes", mangled(udp_spec(0), [](Bytes& f) { truncate_ip(f, 20 + 7); }), true,
         DropReason::l4_truncated},
        {"UDP length 7", mangled(udp_spec(), [](Bytes& f) { f[l4(f) + 4] = 0; f[l4(f) + 5] = 7; }), true,
         DropReason::udp_bad_length},
        {"UDP length one beyond the IP payload",
         mangled(udp_spec(12), [](Bytes& f) { f[l4(f) + 4] = 0; f[l4(f) + 5] = 21; }), true,
         DropReason::udp_bad_length},
        {"UDP length shorter than the IP payload (IP-level padding)",
         mangled(udp_spec(12), [](Bytes& f) { f[l4(f) + 4] = 0; f[l4(f) + 5] = 8; }), true, DropReason::none},
        {"ICMP of 7 bytes", mangled(icmp_spec(0), [](Bytes& f) { truncate_ip(f, 20 + 7); }), true,
         DropReason::l4_truncated},
        {"ICMP of exactly 8 bytes", build_frame(icmp_spec(0)), true, DropReason::none},
        {"GRE (47) accepted without ports",
         [] { auto s = tcp_spec(); s.proto = 47; s.payload = payload_of(8); return build_frame(s); }(), true,
         DropReason::none},
        {"protocol 253 with an empty payload", [] { auto s = tcp_spec(); s.proto = 253; return build_frame(s); }(),
         true, DropReason::none},
    };
    for (unsigned ihl = 6; ihl <= 15; ++ihl) {
        FrameSpec s = tcp_spec();
        s.ip_options = ip_options_of_words(ihl - 5);
        c.push_back({"TCP with IHL " + std::to_string(ihl), build_frame(s), true, DropReason::none});
        s.proto = pkt::proto_udp;
        s.payload = payload_of(3);
        c.push_back({"UDP with IHL " + std::to_string(ihl), build_frame(s), true, DropReason::none});
    }
    return c;
}

}  // namespace

TEST_CASE("parse_ipv4: drop reason of every crafted frame", "[parse]") {
    for (auto& c : cases()) {
        INFO(c.what);
        pkt::ParsedIpv4 p;
        CHECK(pkt::parse_ipv4(c.frame.data(), uint32_t(c.frame.size()), c.verify, p) == c.want);
    }
}

TEST_CASE("parse_ipv4: fields of valid frames", "[parse]") {
    struct Valid {
        std::string what;
        FrameSpec spec;
        uint16_t sport, dport;  // expected (host order)
        uint8_t flags;
    };
    auto with_ip_options = [](FrameSpec s, unsigned words) {
        s.ip_options = ip_options_of_words(words);
        return s;
    };
    auto tcp_with = [](uint8_t flags, size_t payload) {
        FrameSpec s = tcp_spec();
        s.tcp_flags = flags;
        s.tcp_options = tcp_options_mss_sack_ts();
        s.payload = payload_of(payload);
        return s;
    };
    auto gre = [] {
        FrameSpec s = tcp_spec();
        s.proto = 47;
        s.payload = payload_of(24);
        return s;
    };
    auto padded = [](FrameSpec s) {
        s.eth_padding = 9;
        return s;
    };
    std::vector<Valid> valid = {
        {"TCP SYN", tcp_spec(), 40000, 80, pkt::tcp_syn},
        {"TCP FIN|ACK|PSH with options and payload", tcp_with(pkt::tcp_fin | pkt::tcp_ack | pkt::tcp_psh, 33), 40000,
         80, pkt::tcp_fin | pkt::tcp_ack | pkt::tcp_psh},
        {"TCP with 40 bytes of IP options", with_ip_options(tcp_spec(), 10), 40000, 80, pkt::tcp_syn},
        {"UDP", udp_spec(), 40000, 53, 0},
        {"UDP with IP options and Ethernet padding", padded(with_ip_options(udp_spec(1), 3)), 40000, 53, 0},
        {"ICMP", icmp_spec(), 0, 0, 0},
        {"GRE", gre(), 0, 0, 0},
    };
    for (auto& v : valid) {
        INFO(v.what);
        Bytes f = build_frame(v.spec);
        pkt::ParsedIpv4 p;
        REQUIRE(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
        const unsigned ihl = 20 + unsigned(v.spec.ip_options.size());
        CHECK(p.frame == f.data());
        CHECK(p.frame_len == f.size());
        CHECK(p.ip_len == f.size() - 14 - v.spec.eth_padding);
        CHECK(p.l4_offset == 14 + ihl);
        CHECK(p.l4() == f.data() + 14 + ihl);
        CHECK(p.l4_len() == p.ip_len - ihl);
        CHECK(p.ip() == pkt::at<pkt::Ipv4Hdr>(f.data(), 14));
        CHECK(p.proto == v.spec.proto);
        CHECK(p.saddr == v.spec.saddr);
        CHECK(p.daddr == v.spec.daddr);
        CHECK(p.sport == be16(v.sport));
        CHECK(p.dport == be16(v.dport));
        CHECK(p.tcp_flags == v.flags);
        CHECK(p.has_ports() == (v.spec.proto == pkt::proto_tcp || v.spec.proto == pkt::proto_udp));
    }
}

TEST_CASE("parse_ipv4: a checksum of 0xffff where 0x0000 is computed is accepted (same one's-complement value)",
          "[parse]") {
    // Find an IP id that makes the header checksum compute to 0, then store the other zero.
    FrameSpec s = tcp_spec();
    bool found = false;
    for (uint32_t id = 0; id <= 0xffff && !found; ++id) {
        s.ip_id = uint16_t(id);
        Bytes f = build_frame(s);
        if (recompute_checksums(f).ip_computed != 0) continue;
        found = true;
        f[24] = f[25] = 0xff;
        pkt::ParsedIpv4 p;
        CHECK(pkt::parse_ipv4(f.data(), uint32_t(f.size()), true, p) == DropReason::none);
    }
    CHECK(found);
}

TEST_CASE("classify_frame by EtherType", "[parse]") {
    struct Cls {
        std::string what;
        Bytes frame;
        DropReason want;
        pkt::FrameType type;
    };
    Bytes vlan = build_frame(tcp_spec());
    vlan[12] = 0x81;
    vlan[13] = 0x00;
    Bytes ipv6 = build_frame(tcp_spec());
    ipv6[12] = 0x86;
    ipv6[13] = 0xdd;
    Bytes swapped = build_frame(tcp_spec());  // 0x0008 on the wire is not IPv4
    swapped[12] = 0x00;
    swapped[13] = 0x08;
    std::vector<Cls> cls = {
        {"IPv4", build_frame(tcp_spec()), DropReason::none, pkt::FrameType::ipv4},
        {"ARP", build_arp(ArpSpec{}), DropReason::none, pkt::FrameType::arp},
        {"802.1Q", vlan, DropReason::none, pkt::FrameType::other},
        {"IPv6", ipv6, DropReason::none, pkt::FrameType::other},
        {"byte-swapped IPv4 EtherType", swapped, DropReason::none, pkt::FrameType::other},
        {"exactly 14 bytes", Bytes(vlan.begin(), vlan.begin() + 14), DropReason::none, pkt::FrameType::other},
    };
    for (auto& c : cls) {
        INFO(c.what);
        pkt::FrameType t = pkt::FrameType::ipv4;
        CHECK(pkt::classify_frame(c.frame.data(), uint32_t(c.frame.size()), t) == c.want);
        CHECK(t == c.type);
    }
    Bytes f = build_frame(tcp_spec());
    for (uint32_t len : {0u, 1u, 13u}) {
        INFO("length " << len);
        pkt::FrameType t = pkt::FrameType::arp;
        CHECK(pkt::classify_frame(f.data(), len, t) == DropReason::eth_truncated);
    }
}
