#include <catch2/catch.hpp>

#include "tools/dplbadm/format.hpp"

using namespace dplb::dplbadm;
using nlohmann::json;

namespace {

// A list reply as dplb-control sends it, services deliberately out of ipvsadm's order.
json list_reply() {
    return json::parse(R"({"ok":true,"dataplane":"connected","services":[
      {"protocol":"udp","address":"10.0.0.53","port":53,"scheduler":"wrr","local_addresses":[],
       "stats":{"conns":123456789,"inpkts":1000000000,"outpkts":100000000000,"inbytes":123456789012345,"outbytes":5},
       "real_servers":[]},
      {"protocol":"tcp","address":"192.168.227.128","port":80,"scheduler":"rr","local_addresses":[],
       "stats":{"conns":12,"inpkts":240,"outpkts":236,"inbytes":17004,"outbytes":90022},
       "real_servers":[
         {"address":"192.168.253.144","port":80,"weight":1,"forward":"nat","upper_threshold":0,"lower_threshold":0,
          "active_conns":0,"inactive_conns":0,"stats":{"conns":5,"inpkts":100,"outpkts":98,"inbytes":7000,"outbytes":40000}},
         {"address":"192.168.253.143","port":80,"weight":1,"forward":"nat","upper_threshold":0,"lower_threshold":0,
          "active_conns":1,"inactive_conns":3,"stats":{"conns":7,"inpkts":140,"outpkts":138,"inbytes":10004,"outbytes":50022}}]},
      {"protocol":"tcp","address":"10.0.0.100","port":443,"scheduler":"rr","local_addresses":["192.168.100.200"],
       "stats":{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0},
       "real_servers":[
         {"address":"192.168.100.11","port":8443,"weight":65535,"forward":"fullnat","upper_threshold":0,
          "lower_threshold":0,"active_conns":1234567,"inactive_conns":7,"stats":{"conns":0,"inpkts":0,"outpkts":0,
          "inbytes":0,"outbytes":0}}]}]})");
}

}  // namespace

TEST_CASE("ipvsadm -Ln layout, as in the seed lab") {
    auto text = format_list(list_reply(), ListFormat{});
    REQUIRE(text.ok());
    CHECK(*text ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
          "TCP  10.0.0.100:443 rr\n"
          "  -> 192.168.100.11:8443          FullNat 65535  1234567    7         \n"
          "TCP  192.168.227.128:80 rr\n"
          "  -> 192.168.253.143:80           Masq    1      1          3         \n"
          "  -> 192.168.253.144:80           Masq    1      0          0         \n"
          "UDP  10.0.0.53:53 wrr\n");
}

TEST_CASE("ipvsadm -L -t prints the title without the version line") {
    json reply = list_reply();
    reply["services"].erase(0);
    reply["services"].erase(1);
    auto text = format_list(reply, ListFormat{false, false, true});
    REQUIRE(text.ok());
    CHECK(*text ==
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
          "TCP  192.168.227.128:80 rr\n"
          "  -> 192.168.253.143:80           Masq    1      1          3         \n"
          "  -> 192.168.253.144:80           Masq    1      0          0         \n");
}

TEST_CASE("ipvsadm -Ln --stats layout with K/M/G scaling") {
    auto text = format_list(list_reply(), ListFormat{true, false, false});
    REQUIRE(text.ok());
    CHECK(*text ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
          "  -> RemoteAddress:Port\n"
          "TCP  10.0.0.100:443                      0        0        0        0        0\n"
          "  -> 192.168.100.11:8443                 0        0        0        0        0\n"
          "TCP  192.168.227.128:80                 12      240      236    17004    90022\n"
          "  -> 192.168.253.143:80                  7      140      138    10004    50022\n"
          "  -> 192.168.253.144:80                  5      100       98     7000    40000\n"
          "UDP  10.0.0.53:53                  123456K    1000M     100G     123T        5\n");
}

TEST_CASE("ipvsadm --stats --exact widens instead of scaling") {
    json reply = list_reply();
    reply["services"].erase(1);
    reply["services"].erase(1);
    auto text = format_list(reply, ListFormat{true, true, true});
    REQUIRE(text.ok());
    CHECK(*text ==
          "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
          "  -> RemoteAddress:Port\n"
          "UDP  10.0.0.53:53                 123456789 1000000000 100000000000 123456789012345        5\n");
}

TEST_CASE("print_largenum thresholds") {
    CHECK(largenum(0, false) == "        0");
    CHECK(largenum(99999999, false) == " 99999999");
    CHECK(largenum(100000000, false) == "  100000K");
    CHECK(largenum(999999999, false) == "  999999K");
    CHECK(largenum(1000000000, false) == "    1000M");
    CHECK(largenum(99999999999ULL, false) == "   99999M");
    CHECK(largenum(100000000000ULL, false) == "     100G");
    CHECK(largenum(100000000000000ULL, false) == "     100T");
    CHECK(largenum(12345678, true) == " 12345678");
    CHECK(largenum(123456789, true) == " 123456789");
}

TEST_CASE("service names are cut at 33 and server names at 28 characters, as ipvsadm does") {
    json reply = json::parse(R"({"ok":true,"services":[{"protocol":"tcp","address":"255.255.255.254","port":65535,
        "scheduler":"rr","stats":{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0},"real_servers":[
        {"address":"255.255.255.254","port":65535,"weight":1,"forward":"nat","active_conns":0,"inactive_conns":0,
         "stats":{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0}}]}]})");
    auto text = format_list(reply, ListFormat{false, false, true});
    REQUIRE(text.ok());
    CHECK(text->find("TCP  255.255.255.254:65535 rr\n") != std::string::npos);
    CHECK(text->find("  -> 255.255.255.254:65535        Masq    1") != std::string::npos);
}

TEST_CASE("an empty table, as after ipvsadm -C") {
    auto text = format_list(json::parse(R"({"ok":true,"dataplane":"disconnected","services":[]})"), ListFormat{});
    REQUIRE(text.ok());
    CHECK(*text ==
          "IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
}

TEST_CASE("a malformed reply is an error, not a crash") {
    auto r = format_list(json::parse(R"({"ok":true,"services":[{"protocol":"tcp","address":"10.0.0.1","port":"80"}]})"),
                         ListFormat{});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("'port' is not a non-negative integer") != std::string::npos);
    CHECK_FALSE(format_list(json::parse("[]"), ListFormat{}).ok());
}

TEST_CASE("--get-laddr in DPVS's layout") {
    auto text = format_laddrs(json::parse(R"({"ok":true,"services":[
        {"protocol":"tcp","address":"10.0.0.100","port":80,"local_addresses":["192.168.100.200","192.168.100.201"]},
        {"protocol":"udp","address":"10.0.0.53","port":53,"local_addresses":[]}]})"));
    REQUIRE(text.ok());
    CHECK(*text ==
          "VIP:VPORT            TOTAL    SNAT_IP\n"
          "10.0.0.100:80        2        \n"
          "                              192.168.100.200\n"
          "                              192.168.100.201\n"
          "10.0.0.53:53         0        \n");
}

TEST_CASE("-L --timeout") {
    auto text = format_timeouts(json::parse(R"({"ok":true,"config":{"timeouts":{"tcp":900,"tcp_fin":120,"udp":300},
        "services":[]}})"));
    REQUIRE(text.ok());
    CHECK(*text == "Timeout (tcp tcpfin udp): 900 120 300\n");
}

TEST_CASE("--status prints workers, ports and every nonzero drop reason on its own line") {
    auto text = format_status(json::parse(R"({"ok":true,"dataplane":"connected","generation":7,"services":2,
        "dataplane_status":{"generation":7,
          "workers":[{"lcore":1,"rx_packets":100,"tx_packets":98},{"lcore":2,"rx_packets":5,"tx_packets":5}],
          "ports":[{"name":"lan","rx_packets":105}],
          "drops":{"no_service":3,"bad_checksum":0,"no_real_server":1}}})"));
    REQUIRE(text.ok());
    CHECK(*text ==
          "dataplane: connected\n"
          "generation: 7\n"
          "services: 2\n"
          "dataplane status:\n"
          "drops:\n"
          "  drop no_real_server 1\n"
          "  drop no_service 3\n"
          "generation: 7\n"
          "port 0: name=lan rx_packets=105\n"
          "worker 0: lcore=1 rx_packets=100 tx_packets=98\n"
          "worker 1: lcore=2 rx_packets=5 tx_packets=5\n");
    auto off = format_status(json::parse(R"({"ok":true,"dataplane":"disconnected","generation":1,"services":0})"));
    REQUIRE(off.ok());
    CHECK(*off == "dataplane: disconnected\ngeneration: 1\nservices: 0\n");
}

TEST_CASE("--status prints session sync one line per daemon and per counter group") {
    auto text = format_status(json::parse(R"({"ok":true,"dataplane":"connected","generation":3,
        "dataplane_status":{"sync":{"counters":{"messages_sent":4,"records_sent":90},
          "daemons":[{"state":"master","mcast_interface":"dplb0","running":true}]}}})"));
    REQUIRE(text.ok());
    CHECK(*text ==
          "dataplane: connected\n"
          "generation: 3\n"
          "dataplane status:\n"
          "sync counters: messages_sent=4 records_sent=90\n"
          "sync daemon: mcast_interface=dplb0 running=true state=master\n");
}

TEST_CASE("--status says whether capture and telemetry are available, and why not") {
    auto text = format_status(json::parse(R"({"ok":true,"dataplane":"connected","generation":3,
        "dataplane_status":{"capture":{"available":true,"file_prefix":"dplb"},
          "telemetry":{"available":false,"socket":"/var/run/dpdk/dplb/dpdk_telemetry.v2","reason":"no telemetry socket"}}})"));
    REQUIRE(text.ok());
    CHECK(*text ==
          "dataplane: connected\n"
          "generation: 3\n"
          "dataplane status:\n"
          "capture: available (dpdk-dumpcap --file-prefix=dplb)\n"
          "telemetry: unavailable (no telemetry socket)\n");
    text = format_status(json::parse(R"({"ok":true,"dataplane":"connected","generation":3,
        "dataplane_status":{"capture":{"available":false,"file_prefix":"x","reason":"EAL runs with --no-huge"},
          "telemetry":{"available":true,"socket":"/var/run/dpdk/x/dpdk_telemetry.v2"}}})"));
    REQUIRE(text.ok());
    CHECK(*text ==
          "dataplane: connected\n"
          "generation: 3\n"
          "dataplane status:\n"
          "capture: unavailable (EAL runs with --no-huge)\n"
          "telemetry: available (socket /var/run/dpdk/x/dpdk_telemetry.v2)\n");
}

TEST_CASE("--health: quorum per service, state and each checker per real server") {
    auto text = format_health(json::parse(R"({"ok":true,"keepalived_conf":"/etc/keepalived/keepalived.conf",
        "services":[{"service":{"protocol":"tcp","address":"192.168.227.128","port":80},"quorum_up":true,
          "sorry_active":false,"alive_weight":1,"reals":[
           {"address":"192.168.253.143","port":80,"state":"up","weight":null,"passive_down":false,"checkers":[
             {"type":"TCP_CHECK","target":"192.168.253.143:80","up":true,"failures_in_a_row":0,"last_result":"up",
              "last_failure":"","since_seconds":12.2,"next_in_seconds":0.5}]},
           {"address":"192.168.253.144","port":80,"state":"removed","weight":null,"passive_down":false,"checkers":[
             {"type":"TCP_CHECK","target":"192.168.253.144:80","up":false,"failures_in_a_row":2,"last_result":"down",
              "last_failure":"connect: Connection refused","since_seconds":3.4,"next_in_seconds":0.5},
             {"type":"HTTP_GET","target":"192.168.253.144:8080","up":true,"failures_in_a_row":0,"last_result":null,
              "last_failure":"","since_seconds":600,"next_in_seconds":1}]},
           {"address":"192.168.253.145","port":80,"state":"inhibited","weight":3,"passive_down":true,"checkers":[]}]}]})"));
    REQUIRE(text.ok());
    CHECK(*text ==
          "keepalived.conf: /etc/keepalived/keepalived.conf\n"
          "Prot LocalAddress:Port Quorum (alive weight)\n"
          "  -> RemoteAddress:Port           State      Checker     Target                 Last  Since   Last failure\n"
          "TCP  192.168.227.128:80 up (1)\n"
          "  -> 192.168.253.143:80           up         TCP_CHECK   192.168.253.143:80     up    12s\n"
          "  -> 192.168.253.144:80           removed    TCP_CHECK   192.168.253.144:80     down  3s      connect: Connection refused\n"
          "  ->                                         HTTP_GET    192.168.253.144:8080   -     10m\n"
          "  -> 192.168.253.145:80           inhibited*/3 -           -                      -     -\n");
    CHECK_FALSE(format_health(json::parse(R"({"ok":true})")).ok());
}
