// Session sync's engine pieces without EAL: the SPSC ring, LocalPortPool::take(port), the
// master's events (SyncTap), the batching of events into messages (SyncBatcher), the
// backup's receiver (SyncReceiver: filters, owners, rate limit, counters) and installer
// (Forwarder::install_synced), and the chunked full-table dump.
#include <algorithm>
#include <set>
#include <thread>

#include "catch_print.hpp"
#include "dataplane/flow/owner.hpp"
#include "dataplane/sync/dump_gate.hpp"
#include "dataplane/sync/spsc_ring.hpp"
#include "dataplane/sync/sync_batcher.hpp"
#include "dataplane/sync/sync_receiver.hpp"
#include "forwarder_fixture.hpp"
#include "sync/control_message.hpp"
#include "sync/message_decoder.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack;
constexpr uint8_t TCP = pkt::proto_tcp;
const uint32_t RS1 = ip("10.0.0.11");

using Datagrams = std::vector<std::vector<uint8_t>>;

std::vector<SyncEvent> drain(SyncTap& tap) {
    std::vector<SyncEvent> out;
    SyncEvent e;
    while (tap.events.pop(e)) out.push_back(e);
    return out;
}

// A master: an Lb whose forwarder reports to an enabled tap.
struct Master {
    explicit Master(LbOptions o = {}) : lb(with_tap(std::move(o), tap)) { tap.enabled = true; }
    static LbOptions with_tap(LbOptions o, SyncTap& t) {
        o.sync = &t;
        return o;
    }
    SyncTap tap{1024};
    Lb lb;
};

// A backup: an Lb, its install ring, and a receiver feeding it.
struct Backup {
    explicit Backup(LbOptions o = {}, uint32_t pps = 0, uint8_t syncid = 0)
        : lb(std::move(o)), ring(1024), rings{&ring}, rx(syncid, lb.opts.nworkers, pps, lb.now, counters) {}
    // Receives every datagram and installs what it queued; returns the outcomes.
    std::vector<InstallOutcome> take(const Datagrams& msgs) {
        for (const auto& m : msgs) rx.receive(m, lb.snap.get(), lb.now, &rings);
        std::vector<InstallOutcome> out;
        SyncInstall in;
        while (ring.pop(in)) out.push_back(lb.fwd.install_synced(in, *lb.snap, lb.now));
        return out;
    }
    Lb lb;
    SpscRing<SyncInstall> ring;
    std::vector<SpscRing<SyncInstall>*> rings;
    SyncCounters counters;
    SyncReceiver rx;
};

// These events through a batcher, flushed: the datagrams.
Datagrams send(const std::vector<SyncEvent>& events, const Lb& lb, SyncCounters& c) {
    Datagrams out;
    SyncBatcher b(7, 1472, [&](std::span<const uint8_t> d) { out.emplace_back(d.begin(), d.end()); return true; }, c);
    for (const SyncEvent& e : events) b.add(e, *lb.snap, lb.now);
    b.flush();
    return out;
}

// Every event of the tap through a batcher, flushed: the datagrams.
Datagrams send_events(Master& m, SyncCounters& c) { return send(drain(m.tap), m.lb, c); }

// A node running both daemons (the documented HA setup): a master tap and a backup receiver.
struct Node {
    explicit Node(LbOptions o) : b(with_tap(std::move(o), tap)) { tap.enabled = true; }
    static LbOptions with_tap(LbOptions o, SyncTap& t) {
        o.sync = &t;
        return o;
    }
    SyncTap tap{1024};
    Backup b;
};

void syn(Lb& lb, uint16_t cport, uint16_t vport) {
    Bytes f = build_frame(client_packet(cport, Net::vip, vport, SYN));
    REQUIRE(lb.send(f, Net::client_port).action == fwd::Verdict::Action::forward);
}

}  // namespace

TEST_CASE("SpscRing: bounded, FIFO, one producer and one consumer thread", "[sync]") {
    SpscRing<int> r(5);
    CHECK(r.capacity() == 8);
    for (int i = 0; i < 8; ++i) REQUIRE(r.push(i));
    CHECK_FALSE(r.push(8));
    CHECK(r.free_space() == 0);
    int v = -1;
    REQUIRE(r.pop(v));
    CHECK(v == 0);
    CHECK(r.free_space() == 1);

    SpscRing<uint64_t> big(64);
    constexpr uint64_t n = 200000;
    std::thread producer([&] {
        for (uint64_t i = 1; i <= n;)
            if (big.push(i)) ++i;
    });
    uint64_t expect = 1, got = 0;
    while (expect <= n)
        if (big.pop(got)) REQUIRE(got == expect++);
    producer.join();
    CHECK_FALSE(big.pop(got));
}

TEST_CASE("LocalPortPool::take takes that very port, once, and only the worker's own", "[sync][snat]") {
    LocalPortPool pool(1024, 1100, 1, 2);  // worker 1 of 2: odd ports
    CHECK(pool.take(1031));
    CHECK(pool.in_use() == 1);
    CHECK_FALSE(pool.take(1031));  // in use
    CHECK_FALSE(pool.take(1030));  // worker 0's
    CHECK_FALSE(pool.take(1101));  // past the range
    CHECK_FALSE(pool.take(1023));  // before it
    CHECK(pool.in_use() == 1);
    // acquire() skips the taken port and does not start from it.
    for (uint32_t i = 0; i + 1 < pool.size(); ++i) CHECK(pool.acquire() != 1031);
    CHECK(pool.acquire() == 0);
    pool.release(1031);
    CHECK(pool.acquire() == 1031);
}

TEST_CASE("Master events: created, state changes, refresh by the wheel, end; none when disabled", "[sync]") {
    Master m;
    syn(m.lb, 40000, 80);  // FULLNAT
    auto ev = drain(m.tap);
    REQUIRE(ev.size() == 1);  // the first packet's state is part of `created`
    CHECK(ev[0].kind == SyncEventKind::created);
    CHECK(ev[0].state == SessionState::tcp_syn_recv);
    const Session* s = m.lb.session(Net::client, 40000, Net::vip, 80);
    REQUIRE(s);
    CHECK(ev[0].reply == s->reply);

    const uint16_t lport = be16(s->reply.dport);
    Bytes f = build_frame(server_packet(RS1, 8080, Net::lip, lport, SYN | ACK));
    m.lb.send(f, Net::server_port);
    f = build_frame(client_packet(40000, Net::vip, 80, ACK));
    m.lb.send(f, Net::client_port);
    ev = drain(m.tap);
    REQUIRE(!ev.empty());
    const size_t events = 1 + ev.size();
    CHECK(ev.back().kind == SyncEventKind::state_changed);
    CHECK(ev.back().state == SessionState::tcp_established);
    CHECK(ev.back().expires == m.lb.now + m.lb.snap->timeout(s->service_id, SessionState::tcp_established));

    // Traffic keeps moving the deadline; when the filed one comes due, the wheel re-files
    // the session and that is the refresh.
    const Tick est = m.lb.snap->timeout(s->service_id, SessionState::tcp_established);
    m.lb.now += est / 2;
    f = build_frame(client_packet(40000, Net::vip, 80, ACK));
    m.lb.send(f, Net::client_port);
    CHECK(drain(m.tap).empty());  // a packet that changes no state is no event
    m.lb.expire_at(m.lb.now + est / 2 + 1000);
    ev = drain(m.tap);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == SyncEventKind::refreshed);

    m.lb.expire_at(m.lb.now + est + 1000);
    ev = drain(m.tap);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == SyncEventKind::ended);
    CHECK(ev[0].expires == ev[0].now);  // sent with 1 s left

    m.tap.enabled = false;
    syn(m.lb, 40001, 80);
    CHECK(drain(m.tap).empty());
    CHECK(m.lb.fwd.counters().sync_events.get() == events + 2);  // + refresh, end
}

TEST_CASE("A full event ring loses events, counted", "[sync]") {
    SyncTap tap(2);
    LbOptions o;
    o.sync = &tap;
    tap.enabled = true;
    Lb lb(o);
    for (uint16_t p = 0; p < 5; ++p) syn(lb, uint16_t(41000 + p), 443);
    CHECK(lb.fwd.counters().sync_events.get() == 2);
    CHECK(lb.fwd.counters().sync_events_lost.get() == 3);
}

TEST_CASE("Batching: events become as few messages as sync_maxlen allows, flushed after 100 ms", "[sync]") {
    Master m;
    for (uint16_t p = 0; p < 100; ++p) syn(m.lb, uint16_t(42000 + p), 443);  // NAT: 36 + 6 bytes a record
    auto ev = drain(m.tap);
    REQUIRE(ev.size() == 100);
    Datagrams out;
    SyncCounters c;
    SyncBatcher b(9, 600, [&](std::span<const uint8_t> d) { out.emplace_back(d.begin(), d.end()); return true; }, c);
    const Tick t0 = m.lb.now;
    for (const SyncEvent& e : ev) b.add(e, *m.lb.snap, t0);
    const size_t full = out.size();
    CHECK(full >= 6);  // ~13 records of 44 bytes (padded) in 600 bytes
    for (const auto& d : out) CHECK(d.size() <= 600);
    b.tick(t0 + 99);
    CHECK(out.size() == full);  // the partial message waits
    b.tick(t0 + 100);
    REQUIRE(out.size() == full + 1);
    size_t records = 0;
    for (const auto& d : out) {
        sync::SyncMessage msg;
        REQUIRE(sync::decode_message(d, msg) == sync::DecodeError::none);
        CHECK(msg.syncid == 9);
        records += msg.conns.size();
    }
    CHECK(records == 100);
    CHECK(c.records_sent.get() == 100);
    CHECK(c.messages_sent.get() == out.size());

    // A session whose service left the sender's configuration is not sent.
    m.lb.reconfigure(config::Config{});
    CHECK_FALSE(b.add(ev[0], *m.lb.snap, t0));
    CHECK(c.events_no_context.get() == 1);
}

TEST_CASE("Installer: NAT and FULLNAT sessions from a master forward on the backup", "[sync]") {
    Master m;
    syn(m.lb, 40000, 80);   // FULLNAT
    syn(m.lb, 40001, 443);  // NAT
    const Session master_fn = *m.lb.session(Net::client, 40000, Net::vip, 80);
    SyncCounters c;
    Datagrams msgs = send_events(m, c);
    Backup b;
    auto outcomes = b.take(msgs);
    REQUIRE(outcomes == std::vector{InstallOutcome::installed, InstallOutcome::installed});
    CHECK(b.counters.installs_queued.get() == 2);
    const Session* fn = b.lb.session(Net::client, 40000, Net::vip, 80);
    REQUIRE(fn);
    CHECK(fn->reply == master_fn.reply);
    CHECK(fn->state == SessionState::tcp_syn_recv);
    CHECK(b.lb.lip_pool().in_use() == 1);  // the master's very local port
    CHECK_FALSE(b.lb.lip_pool().take(be16(master_fn.reply.dport)));
    CHECK(b.lb.real(TCP, Net::vip, 80, RS1).inactive.get() == 1);
    CHECK(b.lb.fwd.counters().sync_installed.get() == 2);

    // The server's SYN-ACK to LIP:lport finds the session on the backup.
    const uint16_t lport = be16(master_fn.reply.dport);
    FrameSpec synack = server_packet(RS1, 8080, Net::lip, lport, SYN | ACK);
    Bytes out = expect_forward(b.lb, synack, Net::server_port, Net::client);
    CHECK(out == build_frame(rewritten(synack, Net::vip, 80, Net::client, 40000)));

    // ESTABLISHED on the master: the backup's copy follows and is counted active.
    Bytes f = build_frame(server_packet(RS1, 8080, Net::lip, lport, SYN | ACK));
    m.lb.send(f, Net::server_port);
    f = build_frame(client_packet(40000, Net::vip, 80, ACK));
    m.lb.send(f, Net::client_port);
    outcomes = b.take(send_events(m, c));
    REQUIRE(outcomes == std::vector{InstallOutcome::updated});
    CHECK(fn->state == SessionState::tcp_established);
    CHECK(b.lb.real(TCP, Net::vip, 80, RS1).active.get() == 1);
    CHECK(b.lb.real(TCP, Net::vip, 80, RS1).inactive.get() == 0);
    // Its deadline: the record's timeout plus the grace.
    const Tick est = b.lb.snap->timeout(fn->service_id, SessionState::tcp_established);
    CHECK(fn->expires == b.lb.now + (est + 999) / 1000 * 1000 + sync_expiry_grace_ms);

    // Expiry on the backup gives the port back and the gauges return to 0.
    b.lb.expire_at(fn->expires + 1000);
    CHECK(b.lb.lip_pool().in_use() == 0);
    CHECK(b.lb.real(TCP, Net::vip, 80, RS1).active.get() == 0);
}

TEST_CASE("Installer: a local port in use on the backup, an unknown local address, a tuple reused", "[sync]") {
    Master m;
    syn(m.lb, 40000, 80);
    const Session master_fn = *m.lb.session(Net::client, 40000, Net::vip, 80);
    SyncCounters c;
    Datagrams msgs = send_events(m, c);

    Backup b;
    REQUIRE(b.lb.lip_pool().take(be16(master_fn.reply.dport)));
    CHECK(b.take(msgs) == std::vector{InstallOutcome::port_unavailable});
    CHECK(b.lb.fwd.counters().sync_install_port_unavailable.get() == 1);
    CHECK(b.lb.session(Net::client, 40000, Net::vip, 80) == nullptr);

    // A backup whose FULLNAT service has another local address.
    LbOptions o;
    for (auto& s : o.config.services)
        for (auto& la : s.local_addresses) la = Ip4::parse("10.0.0.201").value();
    Backup other(o);
    CHECK(other.take(msgs) == std::vector{InstallOutcome::no_local_address});

    // The same client tuple later used for another connection on the master (another server
    // and local port): the backup ends the old copy and installs the new one.
    Backup fresh;
    REQUIRE(fresh.take(msgs) == std::vector{InstallOutcome::installed});
    m.lb.expire_at(m.lb.now + 3600 * 1000);
    drain(m.tap);
    syn(m.lb, 40000, 80);  // rr: RS2 this time
    REQUIRE(fresh.take(send_events(m, c)) == std::vector{InstallOutcome::replaced});
    CHECK(fresh.lb.lip_pool().in_use() == 1);
    CHECK(fresh.lb.session(Net::client, 40000, Net::vip, 80)->reply.src == ip("10.0.0.12"));
}

TEST_CASE("Installer: a persistent connection is linked to its template", "[sync][persistence]") {
    LbOptions o = dr_tun_options();
    Master m(o);
    Bytes f = build_frame(client_packet(40002, Net::vip2, 8080, SYN));
    m.lb.send(f, Net::client_port);
    f = build_frame(client_packet(40003, Net::vip2, 9090, SYN));
    m.lb.send(f, Net::client_port);
    SyncCounters c;
    Datagrams msgs = send_events(m, c);
    Backup b(dr_tun_options());
    auto outcomes = b.take(msgs);
    REQUIRE(outcomes.size() == 3);  // template, two connections
    for (auto x : outcomes) CHECK(x == InstallOutcome::installed);
    auto tpls = b.lb.templates();
    REQUIRE(tpls.size() == 1);
    CHECK(tpls[0].control == 2);
    for (const Session& s : b.lb.connections()) CHECK(s.control != no_index);
    CHECK(b.lb.real(TCP, Net::vip2, 0, DrTunNet::d1).persistent.get() == 1);
}

TEST_CASE("Installer: a template rebound to another server is rebound in place, its connections kept",
          "[sync][persistence]") {
    LbOptions o = dr_tun_options();
    config::RealServer second = o.config.services[3].reals[0];  // the persistent TCP service
    second.address.be = DrTunNet::d2;
    o.config.services[3].reals.push_back(second);
    Master m(o);
    Bytes f = build_frame(client_packet(40002, Net::vip2, 8080, SYN));
    m.lb.send(f, Net::client_port);
    f = build_frame(client_packet(40003, Net::vip2, 9090, SYN));
    m.lb.send(f, Net::client_port);
    SyncCounters c;
    Datagrams msgs = send_events(m, c);
    Backup b(o);
    REQUIRE(b.take(msgs).size() == 3);
    REQUIRE(b.lb.templates().size() == 1);
    REQUIRE(b.lb.templates()[0].control == 2);

    // The master rebinds the template (its server left and came back, say): same key, other server.
    const uint32_t id1 = b.lb.real_id(TCP, Net::vip2, 0, DrTunNet::d1), id2 = b.lb.real_id(TCP, Net::vip2, 0, DrTunNet::d2);
    Session tpl = m.lb.templates().at(0);
    const uint32_t old_rip = tpl.real_id == id1 ? DrTunNet::d1 : DrTunNet::d2;
    const uint32_t new_rip = tpl.real_id == id1 ? DrTunNet::d2 : DrTunNet::d1;
    tpl.real_id = tpl.real_id == id1 ? id2 : id1;
    auto outcomes = b.take(send({SyncEvent::of(tpl, SyncEventKind::created, m.lb.now)}, m.lb, c));
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0] == InstallOutcome::replaced);
    CHECK(b.lb.fwd.counters().sync_replaced.get() == 1);
    auto tpls = b.lb.templates();
    REQUIRE(tpls.size() == 1);
    CHECK(tpls[0].control == 2);  // its connections still point at it
    CHECK(tpls[0].real_id == tpl.real_id);
    CHECK(tpls[0].is_synced_copy());
    CHECK(b.lb.real(TCP, Net::vip2, 0, old_rip).persistent.get() == 0);
    CHECK(b.lb.real(TCP, Net::vip2, 0, new_rip).persistent.get() == 1);

    // The connections expire, then the template: no underflow, nothing left behind.
    b.lb.expire_at(b.lb.now + 3600 * 1000);
    CHECK(b.lb.connections().empty());
    for (const Session& t : b.lb.templates()) CHECK(t.control == 0);
    b.lb.expire_at(b.lb.now + 3600 * 1000);
    CHECK(b.lb.templates().empty());
    CHECK(b.lb.real(TCP, Net::vip2, 0, new_rip).persistent.get() == 0);
}

TEST_CASE("Both daemons on both nodes: a synced template's refresh and end do not bounce back", "[sync][persistence]") {
    Node a(dr_tun_options()), b(dr_tun_options());
    SyncCounters c;
    Bytes f = build_frame(client_packet(40002, Net::vip2, 8080, SYN));
    a.b.lb.send(f, Net::client_port);
    REQUIRE(b.b.take(send(drain(a.tap), a.b.lb, c)).size() == 2);  // template, connection
    REQUIRE(b.b.lb.templates().size() == 1);
    CHECK(b.b.lb.templates()[0].is_synced_copy());
    CHECK(b.tap.events.size() == 0);  // installing is no event

    // Both clocks run on; A's events reach B, B's reach A, round after round.
    unsigned from_b = 0, from_a_last = 0;
    Tick t = a.b.lb.now;
    for (int round = 0; round < 6; ++round) {
        t += 3600 * 1000;
        a.b.lb.expire_at(t);
        b.b.lb.expire_at(t);
        std::vector<SyncEvent> ea = drain(a.tap), eb = drain(b.tap);
        from_b += unsigned(eb.size());
        from_a_last = unsigned(ea.size());
        b.b.take(send(ea, a.b.lb, c));
        a.b.take(send(eb, b.b.lb, c));
    }
    CHECK(from_b == 0);       // B's copies' refreshes and ends are A's to send
    CHECK(from_a_last == 0);  // and nothing keeps going round
    CHECK(a.b.lb.templates().empty());
    CHECK(b.b.lb.templates().empty());
    CHECK(a.b.lb.connections().empty());
    CHECK(b.b.lb.connections().empty());
}

TEST_CASE("After a failover, DR copies a node forwards are its own: their ends are sent", "[sync][persistence]") {
    Master m(dr_tun_options());
    Bytes f = build_frame(client_packet(40002, Net::vip2, 8080, SYN));
    m.lb.send(f, Net::client_port);
    SyncCounters c;
    Node b(dr_tun_options());
    REQUIRE(b.b.take(send_events(m, c)).size() == 2);
    const Session* copy = b.b.lb.session(Net::client, 40002, Net::vip2, 8080);
    REQUIRE(copy);
    CHECK(copy->is_synced_copy());
    // B took over: the client's packets come here now (its replies bypass every director).
    f = build_frame(client_packet(40002, Net::vip2, 8080, ACK));
    REQUIRE(b.b.lb.send(f, Net::client_port).action == fwd::Verdict::Action::forward);
    CHECK_FALSE(copy->is_synced_copy());
    REQUIRE(b.b.lb.templates().size() == 1);
    CHECK(b.b.lb.templates()[0].is_synced_copy());
    f = build_frame(client_packet(40003, Net::vip2, 8080, SYN));  // a new connection uses the template
    REQUIRE(b.b.lb.send(f, Net::client_port).action == fwd::Verdict::Action::forward);
    CHECK_FALSE(b.b.lb.templates()[0].is_synced_copy());
    drain(b.tap);
    b.b.lb.expire_at(b.b.lb.now + 3600 * 1000);
    b.b.lb.expire_at(b.b.lb.now + 3600 * 1000);
    std::set<uint16_t> ended;
    unsigned templates_ended = 0;
    for (const SyncEvent& e : drain(b.tap))
        if (e.kind == SyncEventKind::ended) {
            if (e.flags & session_template) ++templates_ended;
            else ended.insert(be16(e.orig.sport));
        }
    CHECK(ended == std::set<uint16_t>{40002, 40003});
    CHECK(templates_ended == 1);
}

TEST_CASE("Receiver: syncid filter, malformed messages, owner mismatch, rate limit, full ring: all counted", "[sync]") {
    Master m;
    for (uint16_t p = 0; p < 100; ++p) syn(m.lb, uint16_t(43000 + p), 443);
    SyncCounters c;
    Datagrams msgs = send_events(m, c);  // syncid 7

    Backup wrong({}, 0, 8);
    CHECK(wrong.take(msgs).empty());
    CHECK(wrong.counters.wrong_syncid.get() == msgs.size());

    Backup bad;
    std::vector<uint8_t> broken = msgs[0];
    broken.pop_back();
    bad.take({broken});
    CHECK(bad.counters.decode[unsigned(sync::DecodeError::size_mismatch)].get() == 1);

    Backup limited({}, 1);  // 1 per second: a burst of 64, then nothing this millisecond
    CHECK(limited.take(msgs).size() == 64);
    CHECK(limited.counters.install_rate_limited.get() == 36);

    Backup small;
    SpscRing<SyncInstall> tiny(4);
    std::vector<SpscRing<SyncInstall>*> rings{&tiny};
    for (const auto& d : msgs) small.rx.receive(d, small.lb.snap.get(), small.lb.now, &rings);
    CHECK(small.counters.installs_queued.get() == 4);
    CHECK(small.counters.install_ring_full.get() == 96);

    // No such service on the backup.
    LbOptions o;
    o.config.services.erase(o.config.services.begin() + 1);
    Backup nosvc(o);
    nosvc.take(msgs);
    CHECK(nosvc.counters.resolve[unsigned(ResolveError::no_service)].get() == 100);

    // FULLNAT with two workers: a local port of worker 1 for a client worker 0 owns (the
    // master ran another worker count) is refused.
    sync::SyncConn rec;
    rec.protocol = TCP;
    rec.flags = sync::conn_f_fullnat;
    rec.state = uint16_t(SessionState::tcp_established);
    rec.caddr = Net::client;
    rec.vaddr = Net::vip;
    rec.vport = be16(80);
    rec.daddr = RS1;
    rec.dport = be16(8080);
    rec.timeout_s = 60;
    unsigned client_worker = client_owner(Net::client, be16(40000), 2);
    rec.cport = be16(40000);
    rec.fullnat = sync::FullnatData{Net::lip, be16(uint16_t(2000 + (client_worker ^ 1)))};
    LbOptions two;
    two.nworkers = 2;
    Backup mism(two);
    SpscRing<SyncInstall> r0(8), r1(8);
    std::vector<SpscRing<SyncInstall>*> both{&r0, &r1};
    mism.rx.receive(sync::encode_messages(std::vector{rec}, 7)[0], mism.lb.snap.get(), mism.lb.now, &both);
    CHECK(mism.counters.fullnat_owner_mismatch.get() == 1);
    rec.fullnat->lport = be16(uint16_t(2000 + client_worker));
    auto r = mism.rx.receive(sync::encode_messages(std::vector{rec}, 7)[0], mism.lb.snap.get(), mism.lb.now, &both);
    CHECK(r.workers_fed.count() == 1);
    CHECK(r.workers_fed.test(client_worker));

    // Above 64 workers (up to max_workers): the owner's own bit, not w % 64.
    const unsigned many = 100;
    uint16_t cport = 40000;
    while (client_owner(Net::client, be16(cport), many) < 64) ++cport;
    const unsigned high = client_owner(Net::client, be16(cport), many);
    rec.cport = be16(cport);
    rec.fullnat->lport = be16(uint16_t(2000 + high));  // lport % workers: the client's owner
    std::vector<std::unique_ptr<SpscRing<SyncInstall>>> own;
    std::vector<SpscRing<SyncInstall>*> all;
    for (unsigned w = 0; w < many; ++w) all.push_back(own.emplace_back(std::make_unique<SpscRing<SyncInstall>>(8)).get());
    SyncCounters hc;
    SyncReceiver wide(0, many, 0, mism.lb.now, hc);
    r = wide.receive(sync::encode_messages(std::vector{rec}, 7)[0], mism.lb.snap.get(), mism.lb.now, &all);
    CHECK(all[high]->size() == 1);
    CHECK(r.workers_fed.count() == 1);
    CHECK(r.workers_fed.test(high));
    CHECK((client_worker ? r1 : r0).size() == 1);

    // A control message comes back to the caller, with a worker-count mismatch counted.
    sync::ControlMessage req{sync::ControlKind::full_table_request, 77, 4, 0};
    auto got = mism.rx.receive(sync::encode_control(7, req), mism.lb.snap.get(), mism.lb.now, nullptr);
    REQUIRE(got.control);
    CHECK(*got.control == req);
    CHECK(mism.counters.worker_count_mismatch.get() == 1);
}

TEST_CASE("Full-table dump: bounded chunks, never more than the ring holds, every session once", "[sync]") {
    SyncTap tap(16);
    LbOptions o;
    o.sync = &tap;  // disabled: packets make no events, only the dump pushes
    Lb lb(o);
    for (uint16_t p = 0; p < 40; ++p) syn(lb, uint16_t(44000 + p), 443);
    REQUIRE(tap.events.size() == 0);
    auto visit = [&](uint32_t& cursor, unsigned budget, auto&& f) { return lb.fwd.visit_sessions(cursor, budget, f); };
    CHECK(tap.serve_dump(visit, lb.now, 64, lb.fwd.counters()) == 0);  // nothing asked

    tap.dump_request = 1;
    std::set<uint16_t> seen;
    unsigned rounds = 0;
    while (tap.dump_served.load() != 1) {
        REQUIRE(++rounds < 1000);
        const unsigned pushed = tap.serve_dump(visit, lb.now, 8, lb.fwd.counters());
        CHECK(pushed <= 8);
        CHECK((pushed > 0 || tap.dump_served.load() == 1));  // pending: never no work
        CHECK(tap.events.size() <= 16);
        if (rounds % 3 == 0)  // the sender drains now and then: the ring fills in between
            for (const SyncEvent& e : drain(tap)) {
                CHECK(e.kind == SyncEventKind::dumped);
                CHECK(seen.insert(be16(e.orig.sport)).second);
            }
    }
    for (const SyncEvent& e : drain(tap)) CHECK(seen.insert(be16(e.orig.sport)).second);
    CHECK(seen.size() == 40);
    CHECK(tap.dump_records.load() == 40);
    CHECK(lb.fwd.counters().sync_dumped.get() == 40);
    CHECK(tap.serve_dump(visit, lb.now, 8, lb.fwd.counters()) == 0);  // served: idle again
}

TEST_CASE("Full-table dump: empty chunks and a full ring still count as work", "[sync]") {
    SyncTap tap(4);
    Lb lb;
    syn(lb, 44000, 443);
    auto visit = [&](uint32_t& cursor, unsigned budget, auto&& f) { return lb.fwd.visit_sessions(cursor, budget, f); };
    tap.dump_request = 1;
    // One-slot chunks of a nearly empty table: almost every chunk pushes nothing, and each
    // must still report work so the worker does not sleep between chunks.
    unsigned rounds = 0;
    while (tap.dump_served.load() != 1 && rounds < 64) {
        ++rounds;
        CHECK(tap.serve_dump(visit, lb.now, 1, lb.fwd.counters()) >= 1);
    }
    CHECK(rounds > 1);
    // A full ring: nothing can be pushed, the dump is still pending.
    SyncTap full(2);
    full.enabled = true;
    Session s;
    while (full.events.free_space() > 0) full.emit(s, SyncEventKind::created, lb.now, lb.fwd.counters());
    full.dump_request = 1;
    CHECK(full.serve_dump(visit, lb.now, 8, lb.fwd.counters()) == 1);
    CHECK(full.dump_served.load() == 0);
}

TEST_CASE("DumpGate: at most one full-table dump per interval, whatever the request rate", "[sync]") {
    DumpGate g;
    const Tick t0 = 0xfffff000u;  // across the clock's wrap
    CHECK(g.admit(t0));
    unsigned admitted = 0;
    for (Tick t = t0; t != t0 + DumpGate::min_interval_ms; t += 10) admitted += g.admit(t);
    CHECK(admitted == 0);  // a flood inside the interval starts nothing
    CHECK(g.admit(t0 + DumpGate::min_interval_ms));
    CHECK_FALSE(g.admit(t0 + DumpGate::min_interval_ms + 1));
}

TEST_CASE("Both daemons on a node: a synced copy's end is not sent back, a session forwarded here is", "[sync]") {
    Master m;
    syn(m.lb, 40000, 443);  // NAT
    syn(m.lb, 40001, 443);
    SyncCounters c;
    Datagrams msgs = send_events(m, c);

    SyncTap tap(64);
    tap.enabled = true;  // this node's master daemon runs too
    LbOptions o;
    o.sync = &tap;
    Backup b(o);
    REQUIRE(b.take(msgs).size() == 2);
    CHECK(tap.events.size() == 0);  // installing is no event
    const Session* copy = b.lb.session(Net::client, 40000, Net::vip, 443);
    const Session* served = b.lb.session(Net::client, 40001, Net::vip, 443);
    REQUIRE(copy);
    REQUIRE(served);
    CHECK(copy->is_synced_copy());
    // The server answers the second connection through this node: it is this node's now.
    FrameSpec reply = server_packet(served->reply.src, be16(served->reply.sport), Net::client, 40001, SYN | ACK);
    expect_forward(b.lb, reply, Net::server_port, Net::client);
    CHECK_FALSE(served->is_synced_copy());
    drain(tap);
    b.lb.expire_at(b.lb.now + 3600 * 1000);
    auto ev = drain(tap);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == SyncEventKind::ended);
    CHECK(be16(ev[0].orig.sport) == 40001);
}

TEST_CASE("Receiver: next-hop hints for queued connections, bounded, none for refused records", "[sync]") {
    Master m;
    syn(m.lb, 40000, 80);   // FULLNAT: the real server and the client
    syn(m.lb, 40001, 443);  // NAT: the same
    SyncCounters c;
    Datagrams msgs = send_events(m, c);

    Backup b;
    b.take(msgs);
    std::vector<uint32_t> hints = b.rx.resolve_hints();
    std::sort(hints.begin(), hints.end());
    hints.erase(std::unique(hints.begin(), hints.end()), hints.end());
    const Session* fn = m.lb.session(Net::client, 40000, Net::vip, 80);
    const Session* nat = m.lb.session(Net::client, 40001, Net::vip, 443);
    REQUIRE(fn);
    REQUIRE(nat);
    std::vector<uint32_t> want{Net::client, fn->reply.src, nat->reply.src};
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    CHECK(hints == want);

    // Refused records give none; many records stop at the bound.
    Backup wrong({}, 0, 8);
    wrong.take(msgs);
    CHECK(wrong.rx.resolve_hints().empty());
    Master many;
    for (uint16_t p = 0; p < 400; ++p) syn(many.lb, uint16_t(45000 + p), 443);
    Backup full;
    full.take(send_events(many, c));
    CHECK(full.rx.resolve_hints().size() == SyncReceiver::max_resolve_hints);
}
