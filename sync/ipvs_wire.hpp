// The IPVS connection-synchronisation protocol, version 1, as the Linux kernel defines it
// (net/netfilter/ipvs/ip_vs_sync.c: struct ip_vs_sync_mesg, struct ip_vs_sync_v4,
// IPVS_OPT_*; include/uapi/linux/ip_vs.h: IP_VS_CONN_F_*; include/net/ip_vs.h: the state
// numbers), plus dplb's own option types. Written from the struct layouts; no kernel code.
//
// Every multi-byte field on the wire is big-endian except `spare` (a __u16 the kernel only
// compares with 0). docs/ha.md, "Session sync wire format", tells the whole story.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dplb::sync {

// Defaults of ipvsadm --start-daemon: IP_VS_SYNC_GROUP, IP_VS_SYNC_PORT.
inline constexpr uint32_t default_group_host = 0xe0000051u;  // 224.0.0.81
inline constexpr uint16_t default_port = 8848;
// A message fits one UDP datagram on a 1500-byte link: 1500 - IPv4 20 - UDP 8.
inline constexpr size_t default_max_payload = 1500 - 20 - 8;

// struct ip_vs_sync_mesg (8 bytes):
//   0 reserved u8 (0: a version-0 receiver reads it as nr_conns and sees nothing)
//   1 syncid   u8
//   2 size     be16 (the whole message, header included)
//   4 nr_conns u8
//   5 version  s8 (SYNC_PROTO_VER = 1)
//   6 spare    u16 (0)
inline constexpr size_t header_size = 8;
inline constexpr uint8_t proto_version = 1;
// struct ip_vs_sync_mesg_v0 is 4 bytes: nr_conns, syncid, size.
inline constexpr size_t header_v0_size = 4;

// struct ip_vs_sync_v4 (36 bytes):
//   0 type     u8   (bit 0 STYPE_F_INET6; other bits: the kernel drops the message)
//   1 protocol u8
//   2 ver_size be16 (version in the top 4 bits, must be 0; record size in the low 12 bits,
//                    options included, padding excluded)
//   4 flags    be32 (IP_VS_CONN_F_*)
//   8 state    be16
//  10 cport    be16
//  12 vport    be16
//  14 dport    be16
//  16 fwmark   be32
//  20 timeout  be32 (seconds; 0 = the receiver's default for the state)
//  24 caddr    be32
//  28 vaddr    be32
//  32 daddr    be32
// then options, each: type u8, length u8 (never 0), data. The next record starts at the
// next multiple of 4 (zero padding); the last one is not padded.
inline constexpr size_t conn_v4_size = 36;
inline constexpr size_t conn_v6_size = 72;  // struct ip_vs_sync_v6: three in6_addr instead
inline constexpr uint8_t stype_f_inet6 = 1;
inline constexpr unsigned sver_shift = 12;
inline constexpr uint16_t sver_mask = 0x0fff;

// Option types the kernel knows (IPVS_OPT_*).
inline constexpr uint8_t opt_seq_data = 1;  // struct ip_vs_sync_conn_options: 24 bytes
inline constexpr uint8_t opt_pe_data = 2;   // at most IP_VS_PEDATA_MAXLEN = 255
inline constexpr uint8_t opt_pe_name = 3;   // at most IP_VS_PENAME_MAXLEN = 16
// IPVS_OPT_F_PARAM (1 << (IPVS_OPT_PARAM - 1)): an option with this bit is optional. The
// kernel matches `type & ~0x40` against the types above and, for any other value, skips an
// optional option but drops the whole record ("Unknown mandatory param") otherwise.
inline constexpr uint8_t opt_f_param = 0x40;
inline constexpr size_t seq_data_size = 24;  // in_seq, out_seq: {init_seq, delta, previous_delta} be32
inline constexpr size_t pe_data_max = 255;
inline constexpr size_t pe_name_max = 16;

// dplb's options. Optional (0x40 set) and `type & ~0x40` in 0x20..0x3f, far from the
// kernel's 1..3 (and its reserved 7): a kernel backup skips them and keeps the record.
inline constexpr uint8_t opt_dplb_fullnat = 0x61;  // laddr be32, lport be16          (6 bytes)
inline constexpr uint8_t opt_dplb_ports = 0x62;    // service port be16, real port be16 (4 bytes)
inline constexpr size_t dplb_fullnat_size = 6;
inline constexpr size_t dplb_ports_size = 4;

// IP_VS_CONN_F_* (include/uapi/linux/ip_vs.h).
inline constexpr uint32_t conn_f_fwd_mask = 0x0007;
inline constexpr uint32_t conn_f_masq = 0x0000;
inline constexpr uint32_t conn_f_localnode = 0x0001;
inline constexpr uint32_t conn_f_tunnel = 0x0002;
inline constexpr uint32_t conn_f_droute = 0x0003;
inline constexpr uint32_t conn_f_bypass = 0x0004;
// Not in mainline: Alibaba's FULLNAT patch and DPVS use 5 (IP_VS_CONN_F_FULLNAT).
inline constexpr uint32_t conn_f_fullnat = 0x0005;
inline constexpr uint32_t conn_f_sync = 0x0020;
inline constexpr uint32_t conn_f_hashed = 0x0040;  // never sent
inline constexpr uint32_t conn_f_nooutput = 0x0080;
inline constexpr uint32_t conn_f_inactive = 0x0100;
inline constexpr uint32_t conn_f_out_seq = 0x0200;
inline constexpr uint32_t conn_f_in_seq = 0x0400;
inline constexpr uint32_t conn_f_seq_mask = 0x0600;
inline constexpr uint32_t conn_f_no_cport = 0x0800;
inline constexpr uint32_t conn_f_template = 0x1000;
inline constexpr uint32_t conn_f_one_packet = 0x2000;
// IP_VS_CONN_F_BACKUP_MASK: the bits a kernel backup keeps from a record.
inline constexpr uint32_t conn_f_backup_mask =
    conn_f_fwd_mask | conn_f_nooutput | conn_f_inactive | conn_f_seq_mask | conn_f_no_cport | conn_f_template;

// State numbers (include/net/ip_vs.h).
enum IpvsTcpState : uint16_t {
    ipvs_tcp_none = 0,
    ipvs_tcp_established,
    ipvs_tcp_syn_sent,
    ipvs_tcp_syn_recv,
    ipvs_tcp_fin_wait,
    ipvs_tcp_time_wait,
    ipvs_tcp_close,
    ipvs_tcp_close_wait,
    ipvs_tcp_last_ack,
    ipvs_tcp_listen,
    ipvs_tcp_synack,
    ipvs_tcp_last,  // 11: first invalid
};
inline constexpr uint16_t ipvs_udp_normal = 0, ipvs_udp_last = 1;
inline constexpr uint16_t ipvs_ctpl_none = 0, ipvs_ctpl_assured = 1, ipvs_ctpl_last = 2;  // templates

inline constexpr uint8_t ipproto_ip = 0;  // fwmark templates (the kernel's <IPPROTO_IP, caddr, 0, fwmark, 0, ...>)
inline constexpr uint8_t ipproto_tcp = 6;
inline constexpr uint8_t ipproto_udp = 17;

}  // namespace dplb::sync
