// dplb sessions <-> sync records, and the worker that installs a record on the backup.
#include <catch2/catch.hpp>

#include "dataplane/session/template_key.hpp"
#include "dataplane/sync/session_sync.hpp"
#include "dataplane/sync/sync_owner.hpp"
#include "test_util.hpp"

using namespace dplb;
using namespace dplb::sync;
using namespace synctest;

namespace {

constexpr Tick now = 1'000'000;

Session connection(ForwardMode mode, uint8_t proto, SessionState st) {
    Session s;
    s.orig = FlowKey(ip("192.168.1.10"), ip("10.0.0.100"), be16(40000), be16(80), proto);
    if (mode == ForwardMode::fullnat)
        s.reply = FlowKey(ip("10.0.1.11"), ip("10.0.2.1"), be16(8080), be16(5003), proto);
    else
        s.reply = FlowKey(ip("10.0.1.11"), ip("192.168.1.10"), be16(8080), be16(40000), proto);
    s.set_mode(mode);
    s.flags |= (mode == ForwardMode::nat || mode == ForwardMode::fullnat) ? session_reply_indexed : session_input_only;
    s.state = st;
    if (st == SessionState::tcp_established) s.flags |= session_active;
    s.expires = now + 899'001;  // 899.001 s left: sent as 900
    return s;
}

SessionContext context() {
    SessionContext ctx;
    ctx.service_proto = 6;
    ctx.vip = ip("10.0.0.100");
    ctx.service_port = be16(80);
    ctx.real_addr = ip("10.0.1.11");
    ctx.real_port = be16(8080);
    return ctx;
}

}  // namespace

TEST_CASE("dplb's states are IPVS's numbers; UDP is IP_VS_UDP_S_NORMAL") {
    for (unsigned i = 0; i <= unsigned(SessionState::tcp_synack); ++i) {
        Session s = connection(ForwardMode::nat, 6, SessionState(i));
        CHECK(to_ipvs_state(s) == i);
        SessionState back;
        REQUIRE(from_ipvs_state(6, uint16_t(i), &back));
        CHECK(back == SessionState(i));
    }
    Session u = connection(ForwardMode::nat, 17, SessionState::udp);
    CHECK(to_ipvs_state(u) == ipvs_udp_normal);
    SessionState back;
    REQUIRE(from_ipvs_state(17, 0, &back));
    CHECK(back == SessionState::udp);
    CHECK_FALSE(from_ipvs_state(6, ipvs_tcp_last, &back));
    CHECK_FALSE(from_ipvs_state(17, 1, &back));
    CHECK_FALSE(from_ipvs_state(1, 0, &back));
}

TEST_CASE("a NAT connection becomes the record IPVS would send, and back") {
    Session s = connection(ForwardMode::nat, 6, SessionState::tcp_established);
    SyncConn c = session_to_sync(s, context(), now);
    CHECK(c.protocol == 6);
    CHECK(c.flags == conn_f_masq);  // ESTABLISHED: not INACTIVE
    CHECK(c.state == ipvs_tcp_established);
    CHECK(c.caddr == ip("192.168.1.10"));
    CHECK(c.cport == be16(40000));
    CHECK(c.vaddr == ip("10.0.0.100"));
    CHECK(c.vport == be16(80));
    CHECK(c.daddr == ip("10.0.1.11"));
    CHECK(c.dport == be16(8080));
    CHECK(c.timeout_s == 900);
    CHECK(!c.fullnat);
    REQUIRE(c.ports);
    CHECK(c.ports->real_port == be16(8080));

    SessionImage im;
    REQUIRE(sync_to_image(c, &im) == ImageError::none);
    CHECK(im.orig == s.orig);
    CHECK(im.reply == s.reply);
    CHECK(im.state == s.state);
    CHECK(im.flags == s.flags);
    CHECK(im.mode == ForwardMode::nat);
    CHECK(im.timeout_ms == 900'000);
    CHECK(im.has_ports);
    CHECK(im.real_addr == ip("10.0.1.11"));
}

TEST_CASE("FULLNAT carries LIP:lport in dplb's option and rebuilds the reply key") {
    Session s = connection(ForwardMode::fullnat, 6, SessionState::tcp_syn_recv);
    SyncConn c = session_to_sync(s, context(), now);
    CHECK(c.flags == (conn_f_fullnat | conn_f_inactive));
    REQUIRE(c.fullnat);
    CHECK(c.fullnat->laddr == ip("10.0.2.1"));
    CHECK(c.fullnat->lport == be16(5003));
    SessionImage im;
    REQUIRE(sync_to_image(c, &im) == ImageError::none);
    CHECK(im.orig == s.orig);
    CHECK(im.reply == s.reply);
    CHECK(im.flags == s.flags);
    CHECK(im.lport == be16(5003));

    c.fullnat.reset();  // e.g. from Alibaba's LVS, which has no such option
    CHECK(sync_to_image(c, &im) == ImageError::fullnat_without_local_address);
}

TEST_CASE("DR and TUN are NOOUTPUT, as IPVS marks every destination that is not NAT") {
    for (ForwardMode m : {ForwardMode::dr, ForwardMode::tunnel}) {
        Session s = connection(m, 17, SessionState::udp);
        SyncConn c = session_to_sync(s, context(), now);
        CHECK(c.flags == (fwd_method_flag(m) | conn_f_nooutput | conn_f_inactive));
        SessionImage im;
        REQUIRE(sync_to_image(c, &im) == ImageError::none);
        CHECK(im.orig == s.orig);
        CHECK(im.reply == s.reply);
        CHECK(im.flags == s.flags);
        CHECK((im.flags & session_input_only) != 0);
    }
}

TEST_CASE("templates use the kernel's tuples and rebuild dplb's template keys") {
    SessionContext ctx = context();
    ctx.real_mode = ForwardMode::dr;
    const uint32_t masked = ip("192.168.1.0");
    Session t;
    t.flags = session_template;
    t.expires = now + 300'000;
    SECTION("port service: <TCP, client&mask, 0, VIP, vport, RIP, rport>") {
        t.orig = template_flow_key(masked, ctx.vip, ctx.service_port, 0);
        SyncConn c = session_to_sync(t, ctx, now);
        CHECK(c.flags == (conn_f_template | conn_f_inactive | conn_f_droute | conn_f_nooutput));
        CHECK(c.protocol == 6);
        CHECK(c.state == ipvs_ctpl_none);
        CHECK(c.caddr == masked);
        CHECK(c.cport == 0);
        CHECK(c.vaddr == ctx.vip);
        CHECK(c.vport == ctx.service_port);
        CHECK(c.dport == ctx.real_port);
        CHECK(c.timeout_s == 300);
        SessionImage im;
        REQUIRE(sync_to_image(c, &im) == ImageError::none);
        CHECK(im.is_template);
        CHECK(im.orig == t.orig);
        CHECK(im.flags == session_template);
    }
    SECTION("port-0 service: vport and dport 0") {
        ctx.service_port = 0;
        ctx.real_port = 0;
        t.orig = template_flow_key(masked, ctx.vip, 0, 0);
        SyncConn c = session_to_sync(t, ctx, now);
        CHECK(c.vport == 0);
        CHECK(c.dport == 0);
        SessionImage im;
        REQUIRE(sync_to_image(c, &im) == ImageError::none);
        CHECK(im.orig == t.orig);
    }
    SECTION("mark service: <IPPROTO_IP, client&mask, 0, htonl(mark), 0, RIP, 0>") {
        ctx.fwmark = 7;
        ctx.vip = 0;
        ctx.service_port = 0;
        t.orig = template_flow_key(masked, 0, 0, 7);
        SyncConn c = session_to_sync(t, ctx, now);
        CHECK(c.protocol == ipproto_ip);
        CHECK(c.vaddr == htonl(7));
        CHECK(c.fwmark == 7);
        SessionImage im;
        REQUIRE(sync_to_image(c, &im) == ImageError::none);
        CHECK(im.orig == t.orig);
        CHECK(im.fwmark == 7);
        c.fwmark = 0;  // the kernel sends skb->mark; the mark is in vaddr anyway
        REQUIRE(sync_to_image(c, &im) == ImageError::none);
        CHECK(im.orig == t.orig);
    }
}

TEST_CASE("records dplb cannot rebuild are refused with a reason") {
    SyncConn c = session_to_sync(connection(ForwardMode::nat, 6, SessionState::tcp_established), context(), now);
    SessionImage im;
    SyncConn x = c;
    x.flags = (x.flags & ~conn_f_fwd_mask) | conn_f_localnode;
    CHECK(sync_to_image(x, &im) == ImageError::unsupported_forwarding_method);
    x.flags = (x.flags & ~conn_f_fwd_mask) | conn_f_bypass;
    CHECK(sync_to_image(x, &im) == ImageError::unsupported_forwarding_method);
    x = c;
    x.pe = PeInfo{};
    CHECK(sync_to_image(x, &im) == ImageError::persistence_engine);
    x = c;
    x.flags |= conn_f_in_seq;
    CHECK(sync_to_image(x, &im) == ImageError::sequence_adjust);
    x = c;
    x.flags |= conn_f_no_cport;
    CHECK(sync_to_image(x, &im) == ImageError::no_client_port);
    x = c;
    x.state = 42;
    CHECK(sync_to_image(x, &im) == ImageError::bad_state);
    for (unsigned i = 0; i < unsigned(ImageError::count_); ++i) CHECK(std::string(to_string(ImageError(i))) != "?");
}

TEST_CASE("timeouts: time left rounded up to seconds, at least 1; 0 received means the state's default") {
    Session s = connection(ForwardMode::nat, 6, SessionState::tcp_established);
    s.expires = now + 1;
    CHECK(session_to_sync(s, context(), now).timeout_s == 1);
    s.expires = now - 5;  // overdue, not yet reaped
    CHECK(session_to_sync(s, context(), now).timeout_s == 1);
    s.expires = now + 10'000;
    CHECK(session_to_sync(s, context(), now).timeout_s == 10);
    SyncConn c = session_to_sync(s, context(), now);
    c.timeout_s = 0;
    SessionImage im;
    REQUIRE(sync_to_image(c, &im) == ImageError::none);
    CHECK(im.timeout_ms == 0);
}

TEST_CASE("the backup installs a record on the worker that owns its packets") {
    SessionImage im;
    // Plain service: the owner of the client's packets, for any worker count.
    Session s = connection(ForwardMode::nat, 6, SessionState::tcp_established);
    REQUIRE(sync_to_image(session_to_sync(s, context(), now), &im) == ImageError::none);
    for (unsigned n : {1u, 2u, 3u, 4u, 8u}) {
        auto w = sync_owner(im, false, 0xffffffffu, n);
        REQUIRE(w);
        CHECK(*w == (n == 1 ? 0 : client_owner(s.orig.src, s.orig.sport, n)));
    }
    // Persistent service: by the masked client, the same worker as its template.
    const uint32_t mask = ip("255.255.255.0");
    auto conn_w = sync_owner(im, true, mask, 4);
    Session t;
    t.flags = session_template;
    t.orig = template_flow_key(s.orig.src & mask, s.orig.dst, s.orig.dport, 0);
    SessionContext ctx = context();
    SessionImage tim;
    REQUIRE(sync_to_image(session_to_sync(t, ctx, now), &tim) == ImageError::none);
    auto tpl_w = sync_owner(tim, true, mask, 4);
    REQUIRE(conn_w);
    REQUIRE(tpl_w);
    CHECK(*conn_w == *tpl_w);
    CHECK(*conn_w == client_owner(s.orig.src & mask, 0, 4));
}

TEST_CASE("FULLNAT: same worker count always agrees; a different count only where lport agrees") {
    const unsigned n = 4;
    unsigned agreed_other_count = 0, total = 0;
    for (uint16_t cport = 1000; cport < 1400; ++cport) {
        Session s = connection(ForwardMode::fullnat, 6, SessionState::tcp_established);
        s.orig.sport = be16(cport);
        const unsigned owner = client_owner(s.orig.src, s.orig.sport, n);
        // The master's worker picks a local port of its own partition (lport % n == worker).
        const uint16_t lport = uint16_t(5000 + owner + 4 * (cport % 100));
        REQUIRE(local_port_owner(lport, n) == owner);
        s.reply.dport = be16(lport);
        SessionImage im;
        REQUIRE(sync_to_image(session_to_sync(s, context(), now), &im) == ImageError::none);
        auto w = sync_owner(im, false, 0xffffffffu, n);
        REQUIRE(w);
        CHECK(*w == owner);
        // A backup with 3 workers: installable only where both rules name the same worker.
        auto w3 = sync_owner(im, false, 0xffffffffu, 3);
        if (w3) {
            CHECK(*w3 == client_owner(s.orig.src, s.orig.sport, 3));
            CHECK(*w3 == local_port_owner(lport, 3));
            ++agreed_other_count;
        }
        ++total;
    }
    CHECK(agreed_other_count > 0);
    CHECK(agreed_other_count < total);
}
