// Byte-exact messages written by hand from the kernel's struct layouts
// (net/netfilter/ipvs/ip_vs_sync.c: struct ip_vs_sync_mesg, struct ip_vs_sync_v4,
// struct ip_vs_sync_conn_options; ip_vs_sync_conn() for the padding rule), decoded and
// re-encoded.
#include <catch2/catch.hpp>

#include "dataplane/session/template_key.hpp"
#include "dataplane/sync/session_sync.hpp"
#include "sync/message_decoder.hpp"
#include "sync/message_encoder.hpp"
#include "test_util.hpp"

using namespace dplb::sync;
using namespace synctest;

namespace {

// What a Linux 6.1 master (sync_version 1, syncid 7) sends for four connections, as
// ip_vs_sync_conn() lays them out (read in a later 6.x tree; these parts are unchanged): flags are cp->flags without HASHED (a NAT destination's
// conn_flags are MASQ|INACTIVE, DR's DROUTE|NOOUTPUT|INACTIVE, __ip_vs_update_dest; TCP
// clears INACTIVE in ESTABLISHED), timeout is cp->timeout / HZ, the record after the
// 62-byte one starts 2 bytes of zero padding later, and the last one is not padded.
const Bytes kernel_message = {
    // struct ip_vs_sync_mesg
    0x00,        // reserved: 0 (a v0 receiver reads nr_conns 0)
    0x07,        // syncid 7
    0x00, 0xb4,  // size 180
    0x04,        // nr_conns 4
    0x01,        // version SYNC_PROTO_VER
    0x00, 0x00,  // spare
    // [8] record 1: NAT, TCP ESTABLISHED
    0x00,                    // type: IPv4
    0x06,                    // protocol TCP
    0x00, 0x24,              // ver_size: version 0, size 36
    0x00, 0x00, 0x00, 0x00,  // flags: IP_VS_CONN_F_MASQ
    0x00, 0x01,              // state IP_VS_TCP_S_ESTABLISHED
    0x9c, 0x40,              // cport 40000
    0x00, 0x50,              // vport 80
    0x1f, 0x90,              // dport 8080
    0x00, 0x00, 0x00, 0x00,  // fwmark 0
    0x00, 0x00, 0x03, 0x84,  // timeout 900
    0xc0, 0xa8, 0x01, 0x0a,  // caddr 192.168.1.10
    0x0a, 0x00, 0x00, 0x64,  // vaddr 10.0.0.100
    0x0a, 0x00, 0x01, 0x0b,  // daddr 10.0.1.11
    // [44] record 2: NAT FTP control connection with sequence adjustment, SYN_RECV
    0x00, 0x06, 0x00, 0x3e,  // IPv4, TCP, size 62 (36 + 2 + 24)
    0x00, 0x00, 0x07, 0x00,  // flags: INACTIVE | OUT_SEQ | IN_SEQ
    0x00, 0x03,              // state IP_VS_TCP_S_SYN_RECV
    0x9c, 0x41,              // cport 40001
    0x00, 0x15,              // vport 21
    0x00, 0x15,              // dport 21
    0x00, 0x00, 0x00, 0x00,  // fwmark
    0x00, 0x00, 0x00, 0x3c,  // timeout 60
    0xc0, 0xa8, 0x01, 0x0a,  // caddr
    0x0a, 0x00, 0x00, 0x64,  // vaddr
    0x0a, 0x00, 0x01, 0x0b,  // daddr
    0x01, 0x18,              // IPVS_OPT_SEQ_DATA, length 24
    0x11, 0x11, 0x11, 0x11,  // in_seq.init_seq
    0x00, 0x00, 0x00, 0x04,  // in_seq.delta 4
    0x00, 0x00, 0x00, 0x00,  // in_seq.previous_delta
    0x22, 0x22, 0x22, 0x22,  // out_seq.init_seq
    0xff, 0xff, 0xff, 0xfc,  // out_seq.delta -4
    0x00, 0x00, 0x00, 0x00,  // out_seq.previous_delta
    0x00, 0x00,              // [106] padding to 108
    // [108] record 3: a persistence template of a DR service (-p 300 -M 255.255.255.0)
    0x00, 0x06, 0x00, 0x24,  // IPv4, TCP, size 36
    0x00, 0x00, 0x11, 0x83,  // flags: TEMPLATE | INACTIVE | NOOUTPUT | DROUTE
    0x00, 0x00,              // state IP_VS_CTPL_S_NONE
    0x00, 0x00,              // cport 0
    0x01, 0xbb,              // vport 443
    0x01, 0xbb,              // dport 443 (dest->port)
    0x00, 0x00, 0x00, 0x00,  // fwmark
    0x00, 0x00, 0x01, 0x2c,  // timeout 300 (svc->timeout)
    0xc0, 0xa8, 0x01, 0x00,  // caddr 192.168.1.0 (masked)
    0x0a, 0x00, 0x00, 0x64,  // vaddr
    0x0a, 0x00, 0x01, 0x0c,  // daddr 10.0.1.12
    // [144] record 4: DR, UDP
    0x00, 0x11, 0x00, 0x24,  // IPv4, UDP, size 36
    0x00, 0x00, 0x01, 0x83,  // flags: INACTIVE | NOOUTPUT | DROUTE
    0x00, 0x00,              // state IP_VS_UDP_S_NORMAL
    0xd4, 0x31,              // cport 54321
    0x00, 0x35,              // vport 53
    0x00, 0x35,              // dport 53
    0x00, 0x00, 0x00, 0x00,  // fwmark
    0x00, 0x00, 0x01, 0x2c,  // timeout 300
    0xc0, 0xa8, 0x02, 0x02,  // caddr 192.168.2.2
    0x0a, 0x00, 0x00, 0x35,  // vaddr 10.0.0.53
    0x0a, 0x00, 0x01, 0x0d,  // daddr 10.0.1.13
};

}  // namespace

TEST_CASE("a message laid out as a Linux 6.1 master sends it decodes field by field") {
    REQUIRE(kernel_message.size() == 180);
    SyncMessage m;
    REQUIRE(decode_message(kernel_message, m) == DecodeError::none);
    CHECK(m.syncid == 7);
    CHECK(m.skipped.empty());
    CHECK(!m.control);
    REQUIRE(m.conns.size() == 4);

    const SyncConn& a = m.conns[0];
    CHECK(a.protocol == 6);
    CHECK(a.flags == conn_f_masq);
    CHECK(a.state == ipvs_tcp_established);
    CHECK(a.cport == be16(40000));
    CHECK(a.vport == be16(80));
    CHECK(a.dport == be16(8080));
    CHECK(a.fwmark == 0);
    CHECK(a.timeout_s == 900);
    CHECK(a.caddr == ip("192.168.1.10"));
    CHECK(a.vaddr == ip("10.0.0.100"));
    CHECK(a.daddr == ip("10.0.1.11"));
    CHECK(!a.seq);
    CHECK(!a.fullnat);
    CHECK(!a.ports);

    const SyncConn& b = m.conns[1];
    CHECK(b.flags == (conn_f_inactive | conn_f_seq_mask));
    CHECK(b.state == ipvs_tcp_syn_recv);
    REQUIRE(b.seq);
    CHECK(b.seq->in == SeqAdjust{0x11111111u, 4, 0});
    CHECK(b.seq->out == SeqAdjust{0x22222222u, 0xfffffffcu, 0});

    const SyncConn& t = m.conns[2];
    CHECK(t.is_template());
    CHECK(t.fwd_method() == conn_f_droute);
    CHECK(t.state == ipvs_ctpl_none);
    CHECK(t.cport == 0);
    CHECK(t.vport == be16(443));
    CHECK(t.caddr == ip("192.168.1.0"));
    CHECK(t.daddr == ip("10.0.1.12"));
    CHECK(t.timeout_s == 300);

    const SyncConn& u = m.conns[3];
    CHECK(u.protocol == 17);
    CHECK(u.flags == (conn_f_inactive | conn_f_nooutput | conn_f_droute));
    CHECK(u.state == ipvs_udp_normal);
    CHECK(u.cport == be16(54321));
    CHECK(u.vaddr == ip("10.0.0.53"));
}

TEST_CASE("the encoder writes the kernel's layout byte for byte, padding included") {
    SyncMessage m;
    REQUIRE(decode_message(kernel_message, m) == DecodeError::none);
    auto out = encode_messages(m.conns, 7);
    REQUIRE(out.size() == 1);
    CHECK(out[0] == kernel_message);
}

TEST_CASE("a dplb FULLNAT record carries its extensions as optional options") {
    SyncConn c;
    c.protocol = 6;
    c.flags = conn_f_fullnat;
    c.state = ipvs_tcp_established;
    c.cport = be16(40000);
    c.vport = be16(80);
    c.dport = be16(8080);
    c.timeout_s = 900;
    c.caddr = ip("192.168.1.10");
    c.vaddr = ip("10.0.0.100");
    c.daddr = ip("10.0.1.11");
    c.fullnat = FullnatData{ip("10.0.2.1"), be16(5003)};
    c.ports = PortsData{be16(80), be16(8080)};
    const Bytes expected = {
        0x00, 0x21, 0x00, 0x3a, 0x01, 0x01, 0x00, 0x00,  // header: syncid 33, size 58, 1 record, v1
        0x00, 0x06, 0x00, 0x32,  // IPv4, TCP, size 50 = 36 + (2 + 6) + (2 + 4)
        0x00, 0x00, 0x00, 0x05,  // flags: FULLNAT (5, as Alibaba's LVS and DPVS)
        0x00, 0x01, 0x9c, 0x40,  // ESTABLISHED, cport 40000
        0x00, 0x50, 0x1f, 0x90,  // vport 80, dport 8080
        0x00, 0x00, 0x00, 0x00,  // fwmark
        0x00, 0x00, 0x03, 0x84,  // timeout 900
        0xc0, 0xa8, 0x01, 0x0a,  // caddr
        0x0a, 0x00, 0x00, 0x64,  // vaddr
        0x0a, 0x00, 0x01, 0x0b,  // daddr
        0x61, 0x06,              // opt_dplb_fullnat (0x40 optional | 0x21), length 6
        0x0a, 0x00, 0x02, 0x01,  //   laddr 10.0.2.1
        0x13, 0x8b,              //   lport 5003
        0x62, 0x04,              // opt_dplb_ports (0x40 | 0x22), length 4
        0x00, 0x50, 0x1f, 0x90,  //   service port 80, real port 8080
    };
    const Bytes& want = expected;
    REQUIRE(want.size() == 58);
    SyncConn list[] = {c};
    auto out = encode_messages(list, 33);
    REQUIRE(out.size() == 1);
    CHECK(out[0] == want);
    SyncMessage m;
    REQUIRE(decode_message(want, m) == DecodeError::none);
    REQUIRE(m.conns.size() == 1);
    CHECK(m.conns[0] == c);
}

TEST_CASE("a kernel backup would keep dplb's records: its option walk skips them") {
    // ip_vs_proc_sync_conn: switch (ptype & ~IPVS_OPT_F_PARAM) reaches `default`, and
    // IPVS_OPT_F_PARAM (0x40) is set, so the option is skipped and the record kept.
    for (uint8_t t : {opt_dplb_fullnat, opt_dplb_ports}) {
        CHECK((t & opt_f_param) != 0);
        const unsigned low = t & ~opt_f_param;
        CHECK(low != opt_seq_data);
        CHECK(low != opt_pe_data);
        CHECK(low != opt_pe_name);
        CHECK(low != 7);  // IPVS_OPT_PARAM itself
    }
}

TEST_CASE("a kernel master's records become dplb sessions, or are refused with a reason") {
    SyncMessage m;
    REQUIRE(decode_message(kernel_message, m) == DecodeError::none);
    REQUIRE(m.conns.size() == 4);
    dplb::SessionImage im;

    REQUIRE(dplb::sync_to_image(m.conns[0], &im) == dplb::ImageError::none);  // NAT, ESTABLISHED
    CHECK(im.mode == dplb::ForwardMode::nat);
    CHECK(im.state == dplb::SessionState::tcp_established);
    CHECK(im.orig == dplb::FlowKey(ip("192.168.1.10"), ip("10.0.0.100"), be16(40000), be16(80), 6));
    CHECK(im.reply == dplb::FlowKey(ip("10.0.1.11"), ip("192.168.1.10"), be16(8080), be16(40000), 6));
    CHECK((im.flags & dplb::session_active) != 0);
    CHECK(im.timeout_ms == 900000);
    CHECK_FALSE(im.has_ports);  // a kernel has no dplb options: the backup matches by address and port

    // FTP with sequence adjustment: dplb never rewrites sequence numbers.
    CHECK(dplb::sync_to_image(m.conns[1], &im) == dplb::ImageError::sequence_adjust);

    REQUIRE(dplb::sync_to_image(m.conns[2], &im) == dplb::ImageError::none);  // DR template
    CHECK(im.is_template);
    CHECK(im.orig == dplb::template_flow_key(ip("192.168.1.0"), ip("10.0.0.100"), be16(443), 0));
    CHECK(im.real_addr == ip("10.0.1.12"));
    CHECK(im.timeout_ms == 300000);

    REQUIRE(dplb::sync_to_image(m.conns[3], &im) == dplb::ImageError::none);  // DR, UDP
    CHECK(im.mode == dplb::ForwardMode::dr);
    CHECK(im.state == dplb::SessionState::udp);
    CHECK((im.flags & dplb::session_input_only) != 0);
    CHECK((im.flags & dplb::session_reply_indexed) == 0);
}
