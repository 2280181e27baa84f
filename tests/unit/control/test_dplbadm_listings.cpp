// ipvsadm's layouts for what issue 3 adds: FWM and persistent services, scheduler flags,
// --rate, --thresholds, --persistent-conn, -c, --timeout with overrides, and --get-mark.
#include <catch2/catch.hpp>

#include "control/api/queries.hpp"
#include "model/rates.hpp"
#include "codec/config_json.hpp"
#include "helpers.hpp"
#include "tools/dplbadm/format.hpp"

using namespace dplb;
using namespace dplb::dplbadm;
using dplb::test::J;
using nlohmann::json;

namespace {

// The seed's fwmark lab as dplb-control lists it.
json fwmark_list() {
    return J(R"({"ok":true,"dataplane":"connected","port_groups":[],"services":[
      {"fwmark":66,"scheduler":"rr","sched_flags":[],"timeouts":{},"local_addresses":[],
       "stats":{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0},
       "rates":{"cps":0,"inpps":0,"outpps":0,"inbps":0,"outbps":0},
       "real_servers":[
        {"address":"192.168.0.20","port":0,"weight":1,"forward":"dr","upper_threshold":0,"lower_threshold":0,
         "active_conns":0,"inactive_conns":0,"persistent_conns":0,
         "stats":{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0},
         "rates":{"cps":0,"inpps":0,"outpps":0,"inbps":0,"outbps":0}},
        {"address":"192.168.0.10","port":0,"weight":1,"forward":"dr","upper_threshold":0,"lower_threshold":0,
         "active_conns":0,"inactive_conns":0,"persistent_conns":0,
         "stats":{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0},
         "rates":{"cps":0,"inpps":0,"outpps":0,"inbps":0,"outbps":0}}]}]})");
}

// every_feature() as dplb-control would list it, with some counters and rates.
json busy_list() {
    config::Config c = test::every_feature();
    model::StatsSnapshot stats;
    for (const auto& s : c.services) {
        model::ServiceStats ss;
        ss.key = s.key;
        for (const auto& r : s.reals) {
            model::RealServerStats rs;
            rs.address = r.address;
            rs.port = r.port;
            rs.active_conns = r.weight * 10;
            rs.inactive_conns = r.weight;
            rs.persistent_conns = s.persistence ? 4 : 0;
            ss.reals.push_back(rs);
        }
        stats.services.push_back(ss);
    }
    // The rates the dataplane estimates after two rounds 2 s apart (model/rates.hpp).
    auto rates_after = [](const model::Counters& now) {
        model::RateEstimate e;
        model::update_estimate(e, now, 2.0);
        return model::read_estimate(e);
    };
    for (auto& ss : stats.services) {
        ss.stats = {400, 4000, 3000, 400000, 3000000000ULL};
        ss.rates = rates_after(ss.stats);
        for (auto& rs : ss.reals) {
            rs.stats = {200, 2000, 1500, 200000, 1500000000ULL};
            rs.rates = rates_after(rs.stats);
        }
    }
    return api::list_reply(c, std::nullopt, &stats);
}

}  // namespace

TEST_CASE("-Ln: the seed's fwmark lab, exactly as the seed shows it") {
    auto text = format_list(fwmark_list(), ListFormat{});
    REQUIRE(text.ok());
    CHECK(*text ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
          "FWM  66 rr\n"
          "  -> 192.168.0.10:0               Route   1      0          0         \n"
          "  -> 192.168.0.20:0               Route   1      0          0         \n");
}

TEST_CASE("-Ln: flags, persistence and masks on the service line; FWM services last") {
    auto text = format_list(busy_list(), ListFormat{});
    REQUIRE(text.ok());
    CHECK(*text ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
          "TCP  10.0.0.1:80 sh (sh-fallback,sh-port)\n"
          "  -> 10.1.1.1:8080                Masq    3      30         3         \n"
          "  -> 10.1.1.2:80                  Route   0      0          0         \n"
          "  -> 10.2.0.1:80                  Tunnel  2      20         2         \n"
          "TCP  10.0.0.1:443 mh (mh-port)\n"
          "  -> 10.1.1.1:443                 FullNat 1      10         1         \n"
          "  -> 10.1.1.3:8443                Masq    1      10         1         \n"
          "TCP  10.0.0.2:0 wlc persistent 3600\n"
          "  -> 10.1.1.5:0                   Route   1      10         1         \n"
          "  -> 10.1.1.6:8080                Masq    1      10         1         \n"
          "UDP  10.0.0.53:53 lc\n"
          "  -> 10.1.1.7:53                  Masq    1      10         1         \n"
          "FWM  66 rr persistent 600 mask 255.255.255.0\n"
          "  -> 192.168.0.10:0               Route   1      10         1         \n"
          "  -> 192.168.0.20:0               Route   1      10         1         \n"
          "FWM  67 wrr\n"
          "  -> 10.1.1.8:5353                Masq    5      50         5         \n");
}

TEST_CASE("--nosort keeps the configuration's order") {
    json reply = fwmark_list();
    auto text = format_list(reply, ListFormat{.sort = false});
    REQUIRE(text.ok());
    CHECK(text->find("192.168.0.20:0") < text->find("192.168.0.10:0"));
}

TEST_CASE("--rate: ipvsadm's columns, the estimates of dplb-control") {
    json reply = busy_list();
    reply["services"].erase(1);
    reply["services"].erase(1);
    reply["services"].erase(1);
    reply["services"].erase(1);
    reply["services"].erase(1);
    auto text = format_list(reply, ListFormat{.rate = true});
    REQUIRE(text.ok());
    // 400 connections in 2 s are 200/s, and the first estimate is a quarter of that.
    CHECK(*text ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
          "  -> RemoteAddress:Port\n"
          "TCP  10.0.0.1:80                        50      500      375    50000  375000K\n"
          "  -> 10.1.1.1:8080                      25      250      187    25000  187500K\n"
          "  -> 10.1.1.2:80                        25      250      187    25000  187500K\n"
          "  -> 10.2.0.1:80                        25      250      187    25000  187500K\n");
}

TEST_CASE("--thresholds and --persistent-conn columns") {
    json reply = busy_list();
    json sh = reply["services"][0];
    json fwm = reply["services"][4];
    reply["services"] = json::array({sh});
    auto th = format_list(reply, ListFormat{.one_service = true, .thresholds = true});
    REQUIRE(th.ok());
    CHECK(*th ==
          "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
          "  -> RemoteAddress:Port\n"
          "TCP  10.0.0.1:80 sh (sh-fallback,sh-port)\n"
          "  -> 10.1.1.1:8080                100        10         30         3         \n"
          "  -> 10.1.1.2:80                  0          0          0          0         \n"
          "  -> 10.2.0.1:80                  0          0          20         2         \n");
    reply["services"] = json::array({fwm});
    auto pc = format_list(reply, ListFormat{.one_service = true, .persistent_conn = true});
    REQUIRE(pc.ok());
    CHECK(*pc ==
          "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
          "  -> RemoteAddress:Port\n"
          "FWM  66 rr persistent 600 mask 255.255.255.0\n"
          "  -> 192.168.0.10:0               1         4           10         1         \n"
          "  -> 192.168.0.20:0               1         4           10         1         \n");
}

TEST_CASE("-L --stats shows FWM services too") {
    auto text = format_list(fwmark_list(), ListFormat{.stats = true});
    REQUIRE(text.ok());
    CHECK(text->find("\nFWM  66" + std::string(26, ' ') + "        0        0        0        0        0\n") !=
          std::string::npos);
}

TEST_CASE("-L -c: ipvsadm's connection entries, expire as mm:ss") {
    auto text = format_connections(J(R"({"ok":true,"truncated":false,"connections":[
        {"protocol":"tcp","state":"ESTABLISHED","expires_ms":899999,"client":"172.25.254.200:51234",
         "virtual":"192.168.0.200:80","real":"192.168.0.10:80","forward":"dr","template":false},
        {"protocol":"ip","state":"NONE","expires_ms":65000,"client":"172.25.254.200:0","fwmark":66,
         "real":"192.168.0.10:0","forward":"dr","template":true},
        {"protocol":"udp","state":"UDP","expires_ms":300000,"client":"172.25.254.201:5353",
         "virtual":"192.168.0.254:53","real":"192.168.1.201:53","forward":"tunnel","template":false}]})"));
    REQUIRE(text.ok());
    CHECK(*text ==
          "IPVS connection entries\n"
          "pro expire state       source             virtual            destination\n"
          "TCP 14:59  ESTABLISHED 172.25.254.200:51234 192.168.0.200:80   192.168.0.10:80\n"
          "IP  01:05  NONE        172.25.254.200:0   0.0.0.66:0         192.168.0.10:0\n"
          "UDP 05:00  UDP         172.25.254.201:5353 192.168.0.254:53   192.168.1.201:53\n");
    auto fnat = format_connections(J(R"({"ok":true,"truncated":false,"connections":[
        {"protocol":"tcp","state":"ESTABLISHED","expires_ms":1000,"client":"10.9.0.1:40000",
         "virtual":"10.0.0.1:443","local":"192.168.100.200:1028","real":"10.1.1.1:443","forward":"fullnat"},
        {"protocol":"tcp","state":"SYN_RECV","expires_ms":0,"client":"10.9.0.2:40000",
         "virtual":"10.0.0.1:443","real":"10.1.1.3:8443","forward":"nat"}]})"));
    REQUIRE(fnat.ok());
    CHECK(*fnat ==
          "IPVS connection entries\n"
          "pro expire state       source             virtual            destination        local\n"
          "TCP 00:01  ESTABLISHED 10.9.0.1:40000     10.0.0.1:443       10.1.1.1:443       192.168.100.200:1028\n"
          "TCP 00:00  SYN_RECV    10.9.0.2:40000     10.0.0.1:443       10.1.1.3:8443      -\n");
    CHECK(*format_connections(J(R"({"ok":true,"connections":[]})")) ==
          "IPVS connection entries\npro expire state       source             virtual            destination\n");
    CHECK_FALSE(format_connections(J(R"({"ok":true,"connections":[{"protocol":"tcp"}]})")).ok());
}

TEST_CASE("-L --timeout: global values, then services that override them") {
    json reply = api::get_config_reply(test::every_feature(), 3);
    auto text = format_timeouts(reply);
    REQUIRE(text.ok());
    CHECK(*text ==
          "Timeout (tcp tcpfin udp): 800 100 200\n"
          "TCP  10.0.0.1:80 Timeout (tcp tcpfin udp): 60 100 30\n");
    auto one = format_timeouts(reply, J(R"({"protocol":"tcp","address":"10.0.0.1","port":80})"));
    REQUIRE(one.ok());
    CHECK(*one == "Timeout (tcp tcpfin udp): 60 100 30\n");
    CHECK(*format_timeouts(reply, J(R"({"fwmark":66})")) == "Timeout (tcp tcpfin udp): 800 100 200\n");
    CHECK(format_timeouts(reply, J(R"({"fwmark":99})")).error().str() == "service: no service fwmark 99");
}

TEST_CASE("--get-mark lists every match of every port group") {
    auto text = format_port_groups(api::get_port_groups_reply(test::every_feature(), std::nullopt));
    REQUIRE(text.ok());
    CHECK(*text ==
          "FWM        Prot VirtualAddress:Port(s)\n"
          "66         TCP  192.168.0.200:80\n"
          "           TCP  192.168.0.200:443\n"
          "           UDP  192.168.0.200:8000-8100\n"
          "67         UDP  10.0.0.9:53\n");
}
