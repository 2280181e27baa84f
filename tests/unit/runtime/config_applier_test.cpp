// ConfigApplier: `apply` and `apply-batch` as the dataplane socket serves them (without the
// publication, which needs EAL): resync when the base is not the current generation, one
// rebuilt service for a one-service batch, rollback when the snapshot cannot be built.
#include <catch2/catch.hpp>

#include "codec/change_json.hpp"
#include "codec/config_json.hpp"
#include "dataplane/runtime/config_applier.hpp"

using namespace dplb;
using nlohmann::json;

namespace {

config::Config services(unsigned n) {
    config::Config c;
    for (unsigned i = 0; i < n; ++i) {
        config::Service s;
        s.key = config::ServiceKey{config::Protocol::tcp, Ip4::from_host(0xc0000200u + 10 + i), 80};
        s.scheduler = config::Scheduler::rr;
        for (unsigned r = 0; r < 2; ++r) {
            config::RealServer rs;
            rs.address = Ip4::from_host(0x0a000000u + i * 16 + r + 1);
            rs.port = 8080;
            s.reals.push_back(rs);
        }
        c.services.push_back(s);
    }
    return c;
}

struct Fx {
    Fx(SnapshotLimits limits = {}) : laddrs(2, 1024, 65535), builder(2, {port()}, limits, laddrs), applier(builder) {}
    static PortSnap port() {
        PortSnap p{};
        p.addresses.push_back(*Ip4Prefix::parse("10.0.0.1/8"));
        return p;
    }
    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    runtime::ConfigApplier applier;
};

json batch_request(uint64_t base, uint64_t generation, const model::Batch& b) {
    return {{"cmd", "apply-batch"}, {"base", base}, {"generation", generation}, {"changes", model::to_json(b)}};
}

}  // namespace

TEST_CASE("apply-batch: no configuration yet, or another base -> resync", "[applier]") {
    Fx fx;
    model::Batch b;
    b.changes.push_back(model::SetTimeouts{config::Timeouts{100, 10, 10}});
    auto none = fx.applier.apply_batch(batch_request(0, 1, b));
    CHECK(none.reply["ok"] == false);
    CHECK(none.reply["resync"] == true);
    CHECK_FALSE(none.snapshot);

    auto full = fx.applier.apply({{"cmd", "apply"}, {"generation", uint64_t(7)}, {"config", model::to_json(services(3))}});
    INFO(full.reply.dump());
    REQUIRE(full.reply["ok"] == true);
    REQUIRE(full.snapshot);
    CHECK(fx.applier.generation() == 7);

    auto other = fx.applier.apply_batch(batch_request(6, 8, b));
    CHECK(other.reply["resync"] == true);
    CHECK(fx.applier.generation() == 7);
}

TEST_CASE("apply-batch: a one-real change rebuilds one service and moves the generation", "[applier]") {
    Fx fx;
    config::Config c = services(20);
    REQUIRE(fx.applier.apply({{"cmd", "apply"}, {"generation", uint64_t(1)}, {"config", model::to_json(c)}}).snapshot);
    config::RealServer r = c.services[5].reals[1];
    r.weight = 7;
    model::Batch b;
    b.changes.push_back(model::EditReal{c.services[5].key, r});
    auto out = fx.applier.apply_batch(batch_request(1, 2, b));
    INFO(out.reply.dump());
    REQUIRE(out.reply["ok"] == true);
    CHECK(out.reply["generation"] == 2);
    CHECK(out.reply["rebuilt"] == 1);
    REQUIRE(out.snapshot);
    CHECK(out.snapshot->generation == 2);
    const ServiceSnap* s = out.snapshot->find_service(6, c.services[5].key.address.be, __builtin_bswap16(80));
    REQUIRE(s);
    CHECK(s->reals[1].weight == 7);
    CHECK(fx.applier.config().services[5].reals[1].weight == 7);
    CHECK(fx.applier.generation() == 2);

    // Global timeouts: nothing rebuilt, the timeouts reach the snapshot.
    model::Batch t;
    t.changes.push_back(model::SetTimeouts{config::Timeouts{100, 10, 20}});
    auto tout = fx.applier.apply_batch(batch_request(2, 3, t));
    REQUIRE(tout.reply["ok"] == true);
    CHECK(tout.reply["rebuilt"] == 0);
    CHECK(tout.snapshot->timeout(s->id, SessionState::tcp_established) == 100000);
}

TEST_CASE("apply-batch: a refused change or a failed build leaves the configuration as it was", "[applier]") {
    Fx fx(SnapshotLimits{3, 6});  // 3 services, 6 real servers at most
    config::Config c = services(3);
    REQUIRE(fx.applier.apply({{"cmd", "apply"}, {"generation", uint64_t(1)}, {"config", model::to_json(c)}}).snapshot);

    // The editor refuses the second change (its service does not exist): the first is undone.
    config::RealServer extra;
    extra.address = Ip4::from_host(0x0a0000f0u);
    extra.port = 8080;
    model::Batch bad;
    bad.changes.push_back(model::DeleteReal{c.services[0].key, c.services[0].reals[0].address, 8080});
    config::ServiceKey nowhere{config::Protocol::tcp, Ip4::from_host(0xc0000299u), 80};
    bad.changes.push_back(model::AddReal{nowhere, extra});
    auto refused = fx.applier.apply_batch(batch_request(1, 2, bad));
    CHECK(refused.reply["ok"] == false);
    CHECK(refused.reply["field"].get<std::string>().rfind("changes[1]", 0) == 0);
    CHECK(fx.applier.config().services[0].reals.size() == 2);

    // Valid for the model, too many real servers for this dataplane: the build fails and the
    // editor is rolled back.
    model::Batch big;
    big.changes.push_back(model::AddReal{c.services[1].key, extra});
    auto failed = fx.applier.apply_batch(batch_request(1, 2, big));
    CHECK(failed.reply["ok"] == false);
    CHECK(failed.reply["error"].get<std::string>().find("too many real servers") != std::string::npos);
    CHECK_FALSE(failed.snapshot);
    CHECK(fx.applier.config().services[1].reals.size() == 2);
    CHECK(fx.applier.generation() == 1);

    // And the next batch applies to the unchanged configuration.
    model::Batch ok;
    ok.changes.push_back(model::DeleteReal{c.services[2].key, c.services[2].reals[0].address, 8080});
    auto done = fx.applier.apply_batch(batch_request(1, 2, ok));
    CHECK(done.reply["ok"] == true);
    CHECK(fx.applier.config().services[2].reals.size() == 1);
}

TEST_CASE("apply-batch: the health checker's changes rebuild their service only", "[applier][health]") {
    Fx fx;
    config::Config c = services(20);
    c.services[5].sorry_server = config::SorryServer{Ip4::from_host(0x0a0000f0u), 8080, config::ForwardMethod::nat, false};
    REQUIRE(fx.applier.apply({{"cmd", "apply"}, {"generation", uint64_t(1)}, {"config", model::to_json(c)}}).snapshot);
    const config::ServiceKey key = c.services[5].key;
    const json changes = json::parse(R"([
        {"op":"set-real-health","service":{"protocol":"tcp","address":"192.0.2.15","port":80},
         "real_server":{"address":"10.0.0.81","port":8080},"health":"removed"},
        {"op":"set-real-health","service":{"protocol":"tcp","address":"192.0.2.15","port":80},
         "real_server":{"address":"10.0.0.82","port":8080},"health":"up","dynamic_weight":4}])");
    auto out = fx.applier.apply_batch({{"cmd", "apply-batch"}, {"base", uint64_t(1)}, {"generation", uint64_t(2)}, {"changes", changes}});
    INFO(out.reply.dump());
    REQUIRE(out.reply["ok"] == true);
    CHECK(out.reply["rebuilt"] == 1);
    const ServiceSnap* s = out.snapshot->find_service(6, key.address.be, __builtin_bswap16(80));
    REQUIRE(s);
    REQUIRE(s->reals.size() == 1);
    CHECK(s->reals[0].addr == Ip4::from_host(0x0a000052u).be);
    CHECK(s->reals[0].weight == 4);
    CHECK(s->standby.size() == 2);  // the removed server and the sorry server

    const json sorry = json::parse(R"([{"op":"set-sorry-active",
        "service":{"protocol":"tcp","address":"192.0.2.15","port":80},"active":true}])");
    auto on = fx.applier.apply_batch({{"cmd", "apply-batch"}, {"base", uint64_t(2)}, {"generation", uint64_t(3)}, {"changes", sorry}});
    REQUIRE(on.reply["ok"] == true);
    CHECK(on.reply["rebuilt"] == 1);
    s = on.snapshot->find_service(6, key.address.be, __builtin_bswap16(80));
    REQUIRE(s);
    REQUIRE(s->reals.size() == 1);
    CHECK(s->reals[0].addr == Ip4::from_host(0x0a0000f0u).be);
    CHECK(fx.applier.config().services[5].sorry_active);

    // No sorry server to activate: refused, nothing changes.
    const json bad = json::parse(R"([{"op":"set-sorry-active",
        "service":{"protocol":"tcp","address":"192.0.2.16","port":80},"active":true}])");
    auto refused = fx.applier.apply_batch({{"cmd", "apply-batch"}, {"base", uint64_t(3)}, {"generation", uint64_t(4)}, {"changes", bad}});
    CHECK(refused.reply["ok"] == false);
    CHECK(refused.reply["field"] == "changes[0].active");
    CHECK(fx.applier.generation() == 3);
}

TEST_CASE("apply-batch: starting and stopping a sync daemon rebuilds no service", "[applier][sync]") {
    Fx fx;
    config::Config c = services(20);
    REQUIRE(fx.applier.apply({{"cmd", "apply"}, {"generation", uint64_t(1)}, {"config", model::to_json(c)}}).snapshot);
    config::SyncDaemon d;
    d.state = config::SyncState::backup;
    d.mcast_interface = "dplb0";
    d.syncid = 4;
    model::Batch start;
    start.changes.push_back(model::StartSyncDaemon{d});
    auto out = fx.applier.apply_batch(batch_request(1, 2, start));
    INFO(out.reply.dump());
    REQUIRE(out.reply["ok"] == true);
    CHECK(out.reply["rebuilt"] == 0);
    REQUIRE(out.snapshot);
    REQUIRE(fx.applier.config().sync_daemons.size() == 1);
    CHECK(fx.applier.config().sync_daemons[0] == d);
    // A second backup is refused by the dataplane's editor too, and nothing changes.
    auto again = fx.applier.apply_batch(batch_request(2, 3, start));
    CHECK(again.reply["ok"] == false);
    CHECK(fx.applier.generation() == 2);
    model::Batch stop;
    stop.changes.push_back(model::StopSyncDaemon{config::SyncState::backup});
    auto stopped = fx.applier.apply_batch(batch_request(2, 3, stop));
    REQUIRE(stopped.reply["ok"] == true);
    CHECK(stopped.reply["rebuilt"] == 0);
    CHECK(fx.applier.config().sync_daemons.empty());
    // The whole configuration carries them as well.
    c.sync_daemons = {d};
    REQUIRE(fx.applier.apply({{"cmd", "apply"}, {"generation", uint64_t(4)}, {"config", model::to_json(c)}}).snapshot);
    CHECK(fx.applier.config().sync_daemons == c.sync_daemons);
}
