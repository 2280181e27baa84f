#include <catch2/catch.hpp>

#include "control/api/queries.hpp"
#include "control/api/zero_baselines.hpp"
#include "model/stats.hpp"
#include "helpers.hpp"
#include "codec/stats_json.hpp"

using namespace dplb;
using dplb::test::J;

namespace {

model::StatsSnapshot snapshot(uint64_t conns, uint64_t rs_conns) {
    auto r = model::stats_reply_from_json(J(R"({"ok":true,"generation":3,"services":[
        {"protocol":"tcp","address":"192.168.227.128","port":80,
         "stats":{"conns":0,"inpkts":20,"outpkts":18,"inbytes":2000,"outbytes":9000},
         "real_servers":[{"address":"192.168.253.143","port":80,"active_conns":2,"inactive_conns":1,
                          "stats":{"conns":0,"inpkts":10,"outpkts":9,"inbytes":1000,"outbytes":4500}}]}]})"));
    REQUIRE(r.ok());
    r->services[0].stats.conns = conns;
    r->services[0].reals[0].stats.conns = rs_conns;
    return *r;
}

}  // namespace

TEST_CASE("stats reply codec round trip") {
    auto s = snapshot(12, 7);
    CHECK(s.generation == 3);
    auto back = model::stats_reply_from_json(model::stats_reply_to_json(s));
    REQUIRE(back.ok());
    CHECK(*back == s);
    auto bad = model::stats_reply_from_json(J(R"({"ok":true,"services":[{"protocol":"tcp","address":"1.2.3.4",
        "port":80,"stats":{"conns":"many"}}]})"));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().field == "services[0].stats.conns");
}

TEST_CASE("list merges configuration and counters; unmatched servers show zeros") {
    config::Config c = test::nat_lab();
    auto stats = snapshot(12, 7);
    auto reply = api::list_reply(c, std::nullopt, &stats);
    CHECK(reply["ok"] == true);
    CHECK(reply["dataplane"] == "connected");
    const auto& svc = reply["services"][0];
    CHECK(svc["scheduler"] == "rr");
    CHECK(svc["stats"]["conns"] == 12);
    CHECK(svc["real_servers"][0]["active_conns"] == 2);
    CHECK(svc["real_servers"][0]["inactive_conns"] == 1);
    CHECK(svc["real_servers"][0]["stats"]["inbytes"] == 1000);
    CHECK(svc["real_servers"][0]["forward"] == "nat");
    CHECK(svc["real_servers"][1]["stats"]["conns"] == 0);  // not in the dataplane's reply

    auto off = api::list_reply(c, std::nullopt, nullptr);
    CHECK(off["dataplane"] == "disconnected");
    CHECK(off["services"][0]["stats"]["inpkts"] == 0);

    config::ServiceKey other{config::Protocol::udp, *Ip4::parse("10.0.0.53"), 53};
    CHECK(api::list_reply(c, other, &stats)["services"].empty());
}

TEST_CASE("zero baselines subtract, and are dropped when counters go backwards") {
    api::ZeroBaselines z;
    auto before = snapshot(12, 7);
    z.zero(before, std::nullopt);
    auto now = snapshot(15, 9);
    now.services[0].stats.inpkts = 25;
    auto adj = z.subtract(now);
    CHECK(adj.services[0].stats.conns == 3);
    CHECK(adj.services[0].stats.inpkts == 5);
    CHECK(adj.services[0].reals[0].stats.conns == 2);
    CHECK(adj.services[0].reals[0].active_conns == 2);  // gauges are not zeroed

    // The dataplane restarted: its counters are below the baselines, which no longer apply.
    auto restarted = snapshot(1, 1);
    restarted.services[0].stats.inpkts = 0;
    adj = z.subtract(restarted);
    CHECK(adj.services[0].stats.conns == 1);
    CHECK(adj.services[0].reals[0].stats.conns == 1);
    CHECK(z.size() == 0);
}

TEST_CASE("zeroing one service leaves the others counting") {
    api::ZeroBaselines z;
    auto s = snapshot(10, 5);
    auto second = s.services[0];
    second.key.port = 443;
    s.services.push_back(second);
    z.zero(s, s.services[1].key);
    auto adj = z.subtract(s);
    CHECK(adj.services[0].stats.conns == 10);
    CHECK(adj.services[1].stats.conns == 0);
    z.forget(s.services[1].key);
    CHECK(z.subtract(s).services[1].stats.conns == 10);
}

TEST_CASE("get-laddr and get-config replies") {
    config::Config c = test::nat_lab();
    c.services[0].local_addresses = {*Ip4::parse("192.168.100.200")};
    auto l = api::get_laddr_reply(c, std::nullopt);
    CHECK(l == J(R"({"ok":true,"services":[{"protocol":"tcp","address":"192.168.227.128","port":80,
        "local_addresses":["192.168.100.200"]}]})"));
    auto g = api::get_config_reply(c, 7);
    CHECK(g["config"]["services"][0]["real_servers"].size() == 2);
    CHECK(g["generation"] == 7);
}
