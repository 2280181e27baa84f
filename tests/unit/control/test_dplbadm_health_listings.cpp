// dplbadm's listings under the health checker (issue 11): -L shows what keepalived leaves in
// IPVS (a removed real server is not listed, an inhibited one is at weight 0, a dynamic
// weight is the weight, an active sorry server replaces the alive real servers, an inhibit
// sorry server waits at weight 0), --stats, --rate and --persistent-conn the same way, and -S
// the configuration as configured (every real server at its configured weight, no sorry
// server), whatever the health.
#include <catch2/catch.hpp>

#include "control/api/queries.hpp"
#include "helpers.hpp"
#include "tools/dplbadm/format.hpp"

using namespace dplb;
using namespace dplb::config;
using namespace dplb::dplbadm;
using nlohmann::json;

namespace {

Ip4 ip(const char* a) { return *Ip4::parse(a); }

RealServer real(const char* a, uint32_t weight) {
    RealServer r;
    r.address = ip(a);
    r.port = 80;
    r.weight = weight;
    return r;
}

// Four services in four states (ipvsadm's order: by address):
//   .1 a removed, an inhibited and a dynamic-weight real server;
//   .2 quorum lost, sorry server active, one inhibited real server;
//   .3 every real server up, an inhibit sorry server waiting;
//   .4 every real server removed, no sorry server.
Config health_lab() {
    Config c;
    auto service = [](const char* vip, std::vector<RealServer> reals) {
        Service s;
        s.key = {Protocol::tcp, ip(vip), 80, 0};
        s.scheduler = Scheduler::wrr;
        s.reals = std::move(reals);
        return s;
    };
    Service a = service("10.0.0.1", {real("10.1.1.1", 3), real("10.1.1.2", 2), real("10.1.1.3", 1)});
    a.reals[0].health = RealHealth::removed;
    a.reals[1].health = RealHealth::inhibited;
    a.reals[2].dynamic_weight = 7;
    Service b = service("10.0.0.2", {real("10.1.2.1", 1), real("10.1.2.2", 1)});
    b.reals[1].health = RealHealth::inhibited;
    b.sorry_server = SorryServer{ip("10.9.9.9"), 8080, ForwardMethod::nat, false};
    b.sorry_active = true;
    Service d = service("10.0.0.3", {real("10.1.3.1", 2)});
    d.sorry_server = SorryServer{ip("10.9.9.8"), 80, ForwardMethod::dr, true};
    Service e = service("10.0.0.4", {real("10.1.4.1", 1)});
    e.reals[0].health = RealHealth::removed;
    c.services = {a, b, d, e};
    return c;
}

// The dataplane's counters: every configured server reports (the scheduling set and the
// standby ones), connections by address.
model::StatsSnapshot lab_stats(const Config& c) {
    model::StatsSnapshot stats;
    auto server = [](Ip4 address, uint16_t port, uint64_t n) {
        model::RealServerStats rs;
        rs.address = address;
        rs.port = port;
        rs.active_conns = n;
        rs.inactive_conns = 1;
        rs.stats = {n, n * 10, n * 8, n * 1000, n * 8000};
        return rs;
    };
    for (const auto& s : c.services) {
        model::ServiceStats ss;
        ss.key = s.key;
        ss.stats = {100, 1000, 800, 100000, 800000};
        for (const auto& r : s.reals) ss.reals.push_back(server(r.address, r.port, r.address.host() & 0xff));
        if (s.sorry_server) ss.reals.push_back(server(s.sorry_server->address, s.sorry_server->port, 40));
        stats.services.push_back(ss);
    }
    return stats;
}

json lab_list() {
    Config c = health_lab();
    auto stats = lab_stats(c);
    return api::list_reply(c, std::nullopt, &stats);
}

}  // namespace

TEST_CASE("-Ln: what keepalived leaves in IPVS") {
    auto text = format_list(lab_list(), ListFormat{});
    REQUIRE(text.ok());
    CHECK(*text ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
          "TCP  10.0.0.1:80 wrr\n"
          "  -> 10.1.1.2:80                  Masq    0      2          1         \n"
          "  -> 10.1.1.3:80                  Masq    7      3          1         \n"
          "TCP  10.0.0.2:80 wrr\n"
          "  -> 10.1.2.2:80                  Masq    0      2          1         \n"
          "  -> 10.9.9.9:8080                Masq    1      40         1         \n"
          "TCP  10.0.0.3:80 wrr\n"
          "  -> 10.1.3.1:80                  Masq    2      1          1         \n"
          "  -> 10.9.9.8:80                  Route   0      40         1         \n"
          "TCP  10.0.0.4:80 wrr\n");
}

TEST_CASE("--stats, --rate and --persistent-conn list the same servers") {
    json reply = lab_list();
    reply["services"] = json::array({reply["services"][0], reply["services"][1]});
    auto stats = format_list(reply, ListFormat{.stats = true});
    REQUIRE(stats.ok());
    CHECK(*stats ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
          "  -> RemoteAddress:Port\n"
          "TCP  10.0.0.1:80                       100     1000      800   100000   800000\n"
          "  -> 10.1.1.2:80                         2       20       16     2000    16000\n"
          "  -> 10.1.1.3:80                         3       30       24     3000    24000\n"
          "TCP  10.0.0.2:80                       100     1000      800   100000   800000\n"
          "  -> 10.1.2.2:80                         2       20       16     2000    16000\n"
          "  -> 10.9.9.9:8080                      40      400      320    40000   320000\n");
    auto rate = format_list(reply, ListFormat{.rate = true});
    REQUIRE(rate.ok());
    CHECK(rate->find("10.1.1.1:80") == std::string::npos);
    CHECK(rate->find("10.1.2.1:80") == std::string::npos);
    CHECK(rate->find("  -> 10.9.9.9:8080 ") != std::string::npos);
    auto pc = format_list(reply, ListFormat{.persistent_conn = true});
    REQUIRE(pc.ok());
    CHECK(pc->find("  -> 10.1.1.2:80                  0         0           2          1         \n") !=
          std::string::npos);
    CHECK(pc->find("  -> 10.1.1.3:80                  7         0           3          1         \n") !=
          std::string::npos);
    CHECK(pc->find("  -> 10.9.9.9:8080                1         0           40         1         \n") !=
          std::string::npos);
    auto th = format_list(reply, ListFormat{.thresholds = true});
    if (!th.ok()) FAIL(th.error().str());
    CHECK(th->find("  -> 10.9.9.9:8080                0          0          40         1         \n") !=
          std::string::npos);
}

TEST_CASE("list reply: every configured server with its health and its place in the table") {
    json reply = lab_list();
    const json& a = reply["services"][0];
    CHECK(a["real_servers"][0]["health"] == "removed");
    CHECK(a["real_servers"][0]["in_table"] == false);
    CHECK(a["real_servers"][0]["table_weight"] == 0);
    CHECK(a["real_servers"][0]["weight"] == 3);  // as configured
    CHECK(a["real_servers"][0]["active_conns"] == 1);  // its remaining connections still count
    CHECK(a["real_servers"][1]["health"] == "inhibited");
    CHECK(a["real_servers"][1]["in_table"] == true);
    CHECK(a["real_servers"][1]["table_weight"] == 0);
    CHECK(a["real_servers"][2]["health"] == "up");
    CHECK(a["real_servers"][2]["dynamic_weight"] == 7);
    CHECK(a["real_servers"][2]["table_weight"] == 7);
    CHECK(a["sorry_active"] == false);
    CHECK_FALSE(a.contains("sorry_server"));
    const json& b = reply["services"][1];
    CHECK(b["sorry_active"] == true);
    CHECK(b["real_servers"][0]["in_table"] == false);  // alive, replaced by the sorry server
    CHECK(b["sorry_server"]["active"] == true);
    CHECK(b["sorry_server"]["in_table"] == true);
    CHECK(b["sorry_server"]["table_weight"] == 1);
    CHECK(b["sorry_server"]["inhibit"] == false);
    CHECK(b["sorry_server"]["stats"]["conns"] == 40);
    const json& d = reply["services"][2];
    CHECK(d["sorry_server"]["active"] == false);
    CHECK(d["sorry_server"]["in_table"] == true);
    CHECK(d["sorry_server"]["table_weight"] == 0);
}

TEST_CASE("-S saves the configuration, not the momentary health") {
    CHECK(format_save(health_lab()) ==
          "-A -t 10.0.0.1:80 -s wrr\n"
          "-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m -w 3\n"
          "-a -t 10.0.0.1:80 -r 10.1.1.2:80 -m -w 2\n"
          "-a -t 10.0.0.1:80 -r 10.1.1.3:80 -m -w 1\n"
          "-A -t 10.0.0.2:80 -s wrr\n"
          "-a -t 10.0.0.2:80 -r 10.1.2.1:80 -m -w 1\n"
          "-a -t 10.0.0.2:80 -r 10.1.2.2:80 -m -w 1\n"
          "-A -t 10.0.0.3:80 -s wrr\n"
          "-a -t 10.0.0.3:80 -r 10.1.3.1:80 -m -w 2\n"
          "-A -t 10.0.0.4:80 -s wrr\n"
          "-a -t 10.0.0.4:80 -r 10.1.4.1:80 -m -w 1\n");
}
