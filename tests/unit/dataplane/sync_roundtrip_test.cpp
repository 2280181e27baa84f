// Sessions the forwarder made, through the sync wire and back: a master's sessions become
// records (session_context + session_to_sync), travel as sync messages, and on a backup
// with the same configuration decode into the same keys, state and flags, and resolve to the
// same service and real server (sync_to_image + resolve_image).
#include <catch2/catch.hpp>

#include "dataplane/sync/session_sync.hpp"
#include "dataplane/sync/sync_context.hpp"
#include "dataplane/sync/sync_owner.hpp"
#include "forwarder_fixture.hpp"
#include "sync/message_decoder.hpp"
#include "sync/message_encoder.hpp"

using namespace dplb;
using namespace dplb::test;

namespace {

// Every session of `master` through encode/decode; each must come back as itself and
// resolve in `backup`'s snapshot.
void check_round_trip(const Lb& master, const Lb& backup, const std::vector<Session>& sessions) {
    std::vector<sync::SyncConn> records;
    for (const Session& s : sessions) {
        SessionContext ctx;
        REQUIRE(session_context(s, *master.snap, &ctx));
        records.push_back(session_to_sync(s, ctx, master.now));
    }
    std::vector<sync::SyncConn> received;
    for (const auto& bytes : sync::encode_messages(records, 1)) {
        sync::SyncMessage m;
        REQUIRE(sync::decode_message(bytes, m) == sync::DecodeError::none);
        REQUIRE(m.skipped.empty());
        received.insert(received.end(), m.conns.begin(), m.conns.end());
    }
    REQUIRE(received.size() == sessions.size());
    for (size_t i = 0; i < sessions.size(); ++i) {
        const Session& s = sessions[i];
        SessionImage im;
        REQUIRE(sync_to_image(received[i], &im) == ImageError::none);
        CHECK(im.is_template == s.is_template());
        CHECK(im.orig == s.orig);
        if (!s.is_template()) {
            CHECK(im.reply == s.reply);
            CHECK(im.state == s.state);
            // What the backup can know: mode, indexing, activity (not the passive-check bits).
            const uint8_t kept = session_reply_indexed | session_active | session_input_only | session_mode_mask;
            CHECK(im.flags == (s.flags & kept));
        }
        ResolvedImage r;
        REQUIRE(resolve_image(im, *backup.snap, &r) == ResolveError::none);
        const ServiceSnap* master_svc = master.snap->service_by_id[s.service_id];
        CHECK(r.service->proto == master_svc->proto);
        CHECK(r.service->vip == master_svc->vip);
        CHECK(r.service->vport == master_svc->vport);
        int idx = index_of_real(*master_svc, s.real_id);
        REQUIRE(idx >= 0);
        CHECK(r.real->addr == master_svc->reals[size_t(idx)].addr);
        CHECK(r.real->port == master_svc->reals[size_t(idx)].port);
        // One worker on both sides here: the owner rule has nothing to split.
        CHECK(sync_owner(im, r.service->persistent, r.service->persist_mask, 1) == 0u);
    }
}

void syn(Lb& lb, uint16_t cport, uint32_t vip, uint16_t vport, uint8_t proto = pkt::proto_tcp) {
    Bytes f = build_frame(client_packet(cport, vip, vport, pkt::tcp_syn, proto));
    REQUIRE(lb.send(f, Net::client_port).action != fwd::Verdict::Action::drop);
}

}  // namespace

TEST_CASE("sync round trip: FULLNAT and NAT sessions made by the forwarder", "[sync]") {
    Lb master, backup;
    for (uint16_t p = 40000; p < 40004; ++p) {
        syn(master, p, Net::vip, 80);   // FULLNAT through 10.0.0.200
        syn(master, p, Net::vip, 443);  // NAT
    }
    auto conns = master.connections();
    REQUIRE(conns.size() == 8);
    unsigned fullnat = 0;
    for (const Session& s : conns) fullnat += s.mode() == ForwardMode::fullnat;
    CHECK(fullnat == 4);
    check_round_trip(master, backup, conns);
}

TEST_CASE("sync round trip: DR, TUN and persistent port-0 services with their templates", "[sync]") {
    Lb master(dr_tun_options()), backup(dr_tun_options());
    syn(master, 40000, Net::vip, 80);     // DR
    syn(master, 40001, Net::vip, 443);    // TUN
    syn(master, 40002, Net::vip2, 8080);  // persistent port-0 DR: a template too
    syn(master, 40003, Net::vip2, 9090);  // same client, same template
    auto conns = master.connections();
    auto tpls = master.templates();
    REQUIRE(conns.size() == 4);
    REQUIRE(tpls.size() == 1);
    check_round_trip(master, backup, conns);
    check_round_trip(master, backup, tpls);
}

TEST_CASE("a backup without the service refuses the record with a reason", "[sync]") {
    Lb master;
    syn(master, 40000, Net::vip, 443);
    auto conns = master.connections();
    REQUIRE(conns.size() == 1);
    SessionContext ctx;
    REQUIRE(session_context(conns[0], *master.snap, &ctx));
    SessionImage im;
    REQUIRE(sync_to_image(session_to_sync(conns[0], ctx, master.now), &im) == ImageError::none);
    LbOptions o;
    o.config.services.erase(o.config.services.begin() + 1);  // no TCP VIP:443
    Lb backup(o);
    ResolvedImage r;
    CHECK(resolve_image(im, *backup.snap, &r) == ResolveError::no_service);
    im.real_addr = ip("10.9.9.9");
    CHECK(resolve_image(im, *master.snap, &r) == ResolveError::no_real_server);
    im.real_addr = conns[0].reply.src;
    im.service_port = be16(444);  // the master's service was another one
    CHECK(resolve_image(im, *master.snap, &r) == ResolveError::service_mismatch);
}
