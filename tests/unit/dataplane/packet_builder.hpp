// Test-side packet crafting and checking, independent of the code under test: frames are
// built byte by byte in network order, and every checksum is computed here from scratch
// with a plain big-endian reference sum (not pkt::csum_partial), so a test that compares a
// rewritten frame with a frame built here checks the dataplane's incremental checksums too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dataplane/packet/headers.hpp"
#include "dataplane/packet/parse.hpp"

namespace dplb::test {

using Bytes = std::vector<uint8_t>;

// "10.0.0.1" -> network-order address (aborts the test run on a typo).
uint32_t ip(const char* dotted);
inline uint16_t be16(uint16_t host) { return __builtin_bswap16(host); }
pkt::Mac mac(uint8_t last, uint8_t first = 0x02);

// Everything a crafted IPv4 frame can carry. Ports and numbers are host order; addresses
// are network order (as ip() returns them).
struct FrameSpec {
    pkt::Mac src_mac = mac(0x01);
    pkt::Mac dst_mac = mac(0x02);
    uint32_t saddr = 0, daddr = 0;
    uint8_t proto = pkt::proto_tcp;
    uint8_t ttl = 64;
    uint8_t tos = 0;
    uint16_t ip_id = 0x1c46;
    uint16_t frag = 0;  // flags << 13 | offset (host order): 0x4000 DF, 0x2000 MF
    Bytes ip_options;   // multiple of 4 bytes, at most 40
    uint16_t sport = 0, dport = 0;
    uint32_t seq = 0x01020304, ack = 0;
    uint8_t tcp_flags = pkt::tcp_syn;
    uint16_t window = 0xfaf0;
    Bytes tcp_options;  // multiple of 4 bytes, at most 40
    uint8_t icmp_type = pkt::icmp_echo_request, icmp_code = 0;
    uint16_t icmp_id = 0x4242, icmp_seq = 7;
    bool udp_no_checksum = false;  // send UDP checksum 0 ("none")
    Bytes payload;                 // after the L4 header (the whole IP payload for other protocols)
    size_t eth_padding = 0;        // bytes after the IP packet (Ethernet padding)
};

// A complete Ethernet + IPv4 (+ TCP/UDP/ICMP) frame with correct checksums.
Bytes build_frame(const FrameSpec& s);

// The IP packet a frame carries (total length bytes from the IP header on: no Ethernet header,
// no padding), cut to its first `max` bytes (an ICMP error's quote).
Bytes ip_packet_of(const Bytes& frame, size_t max = std::numeric_limits<size_t>::max());
// An ICMP error (`type`, `code`) from `src` to `dst` quoting `quoted` (IP packet bytes); `mtu`
// fills the next-hop MTU field (bytes 6-7) of "fragmentation needed", 0 elsewhere.
FrameSpec icmp_error_spec(uint32_t src, uint32_t dst, uint8_t type, uint8_t code, const Bytes& quoted,
                          uint16_t mtu = 0);
// `frame` as LVS TUN sends it: the Ethernet header kept, then an outer IPv4 header (version 4,
// IHL 5, the inner TOS, TTL and DF, identification `id_host`, protocol 4, `src` -> `dst`,
// checksum computed here), then the inner IP packet unchanged; Ethernet padding dropped.
Bytes ipip_frame(const Bytes& frame, uint32_t src, uint32_t dst, uint16_t id_host);

// ARP frame (42 bytes + padding). op 1 = request, 2 = reply.
struct ArpSpec {
    pkt::Mac eth_src = mac(0x01), eth_dst = pkt::broadcast_mac;
    uint16_t htype = 1, ptype = 0x0800;
    uint8_t hlen = 6, plen = 4;
    uint16_t op = 1;
    pkt::Mac sha = mac(0x01);
    uint32_t spa = 0;
    pkt::Mac tha{};
    uint32_t tpa = 0;
    size_t eth_padding = 0;
};
Bytes build_arp(const ArpSpec& s);

// Reference checksums, from scratch over the frame as it is (the stored field is skipped).
uint16_t ref_checksum(const uint8_t* data, size_t len, uint32_t initial = 0);
struct Checksums {
    uint16_t ip_stored = 0, ip_computed = 0;
    uint16_t l4_stored = 0, l4_computed = 0;  // TCP, UDP (0xffff for a computed 0) or ICMP
    bool has_l4 = false;
};
Checksums recompute_checksums(const Bytes& frame);
// CHECKs (Catch) that every stored checksum equals the recomputed one. UDP 0 is accepted as
// "no checksum" only when `udp_zero_ok`.
void check_checksums(const Bytes& frame, bool udp_zero_ok = false);
// Rewrites the IP header checksum of a deliberately mangled frame.
void fix_ip_checksum(Bytes& frame);

// Two payload bytes chosen so that `s`'s TCP/UDP checksum computes to 0 (the sum of
// everything it covers is all ones). `s.payload` must hold at least 2 bytes; the last two
// are replaced.
Bytes payload_for_zero_l4_checksum(FrameSpec s);

// Views on a frame.
inline const pkt::Ipv4Hdr& ip_of(const Bytes& f) { return *pkt::at<pkt::Ipv4Hdr>(f.data(), pkt::l3_offset); }
inline pkt::Ipv4Hdr& ip_of(Bytes& f) { return *pkt::at<pkt::Ipv4Hdr>(f.data(), pkt::l3_offset); }
inline size_t l4_offset_of(const Bytes& f) { return pkt::l3_offset + ip_of(f).ihl_bytes(); }
inline const pkt::TcpHdr& tcp_of(const Bytes& f) { return *pkt::at<pkt::TcpHdr>(f.data(), unsigned(l4_offset_of(f))); }
inline const pkt::UdpHdr& udp_of(const Bytes& f) { return *pkt::at<pkt::UdpHdr>(f.data(), unsigned(l4_offset_of(f))); }
inline const pkt::IcmpHdr& icmp_of(const Bytes& f) { return *pkt::at<pkt::IcmpHdr>(f.data(), unsigned(l4_offset_of(f))); }
inline const pkt::EthHdr& eth_of(const Bytes& f) { return *pkt::at<pkt::EthHdr>(f.data(), 0); }
inline const pkt::ArpHdr& arp_of(const Bytes& f) { return *pkt::at<pkt::ArpHdr>(f.data(), pkt::l3_offset); }

// Hex dump with offsets of the bytes that differ, for failure messages.
std::string describe_difference(const Bytes& got, const Bytes& want);

// Some option blocks.
Bytes ip_options_of_words(unsigned words);  // NOPs ending with EOL, `words` * 4 bytes
Bytes tcp_options_mss_sack_ts();            // MSS, SACK-permitted, timestamps, NOP, wscale: 20 bytes
Bytes payload_of(size_t n, uint8_t seed = 1);

}  // namespace dplb::test
