// dplbadm's sync daemon commands: --start-daemon / --stop-daemon with ipvsadm's options and
// dplb's --sync-peer, and -L --daemon printed as ipvsadm 1.31 prints it.
#include <catch2/catch.hpp>

#include "dplbadm_helpers.hpp"
#include "tools/dplbadm/args.hpp"
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/restore.hpp"

using namespace dplb::dplbadm;
using nlohmann::json;
using dplb::test::parse;
using dplb::test::usage_error;

TEST_CASE("dplbadm --start-daemon: ipvsadm's options, only those given are sent") {
    CHECK(parse("ipvsadm --start-daemon master --mcast-interface eth0 --syncid 1").request ==
          json({{"cmd", "start-sync-daemon"},
                {"daemon", {{"state", "master"}, {"mcast_interface", "eth0"}, {"syncid", 1}}}}));
    CHECK(parse("--start-daemon backup --mcast-interface=dplb0").request ==
          json({{"cmd", "start-sync-daemon"}, {"daemon", {{"state", "backup"}, {"mcast_interface", "dplb0"}}}}));
    auto full = parse("--start-daemon=backup --mcast-interface dplb0 --syncid 0 --sync-maxlen 9000 --mcast-group "
                      "239.0.0.9 --mcast-port 9999 --mcast-ttl 2 --sync-peer 10.0.0.2 --sync-peer 10.0.0.3");
    CHECK(full.output == Output::ack);
    CHECK(full.request["daemon"] == json({{"state", "backup"},
                                          {"mcast_interface", "dplb0"},
                                          {"syncid", 0},
                                          {"sync_maxlen", 9000},
                                          {"mcast_group", "239.0.0.9"},
                                          {"mcast_port", 9999},
                                          {"mcast_ttl", 2},
                                          {"peers", {"10.0.0.2", "10.0.0.3"}}}));
    CHECK(parse("--stop-daemon master").request == json({{"cmd", "stop-sync-daemon"}, {"state", "master"}}));
    CHECK(parse("--stop-daemon=backup").request == json({{"cmd", "stop-sync-daemon"}, {"state", "backup"}}));
}

TEST_CASE("dplbadm --start-daemon: usage errors") {
    CHECK(usage_error("--start-daemon master") == "--start-daemon needs --mcast-interface");
    CHECK(usage_error("--start-daemon slave --mcast-interface eth0") ==
          "invalid sync daemon state 'slave' for --start-daemon (expected master or backup)");
    CHECK(usage_error("--stop-daemon both") == "invalid sync daemon state 'both' for --stop-daemon (expected master or backup)");
    CHECK(usage_error("--start-daemon") == "option --start-daemon needs a value");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 --syncid 256") ==
          "invalid --syncid '256' (expected 0..255)");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 --mcast-ttl 0") ==
          "invalid --mcast-ttl '0' (expected 1..255)");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 --mcast-port 65536") ==
          "invalid --mcast-port '65536' (expected 1..65535)");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 --sync-maxlen 65508") ==
          "invalid --sync-maxlen '65508' (expected 1..65507)");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 --mcast-group 224.0.0") ==
          "invalid --mcast-group '224.0.0': '224.0.0' is not a dotted-quad IPv4 address");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 --sync-peer 10.0.0.2:8848") ==
          "invalid --sync-peer '10.0.0.2:8848': no port expected");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 --mcast-interface eth1") ==
          "multiple --mcast-interface options specified");
    CHECK(usage_error("--stop-daemon master --mcast-interface eth0") ==
          "option --mcast-interface is not allowed with --stop-daemon");
    CHECK(usage_error("--start-daemon master --mcast-interface eth0 -t 10.0.0.1:80") ==
          "option -t is not allowed with --start-daemon");
    CHECK(usage_error("-A -t 10.0.0.1:80 --syncid 1") == "option --syncid is not allowed with -A");
}

TEST_CASE("dplbadm -L --daemon: the request, and what it cannot be combined with") {
    auto inv = parse("ipvsadm -L --daemon");
    CHECK(inv.output == Output::daemons);
    CHECK(inv.request == json({{"cmd", "get-sync-daemons"}}));
    CHECK(parse("-Ln --daemon").output == Output::daemons);
    CHECK(usage_error("-L --daemon --stats") == "--daemon cannot be combined with --stats");
    CHECK(usage_error("-L --daemon -t 10.0.0.1:80") == "--daemon cannot be combined with -t");
    CHECK(usage_error("-A -t 10.0.0.1:80 --daemon") == "option --daemon is not allowed with -A");
}

TEST_CASE("dplbadm -L --daemon prints as ipvsadm 1.31, master first") {
    json reply = json::parse(R"({"ok":true,"sync_daemons":[
        {"state":"backup","mcast_interface":"ens18","syncid":2,"sync_maxlen":1472,"mcast_group":"224.0.0.81",
         "mcast_port":8848,"mcast_ttl":1,"peers":[]},
        {"state":"master","mcast_interface":"ens18","syncid":1,"sync_maxlen":1472,"mcast_group":"224.0.0.81",
         "mcast_port":8848,"mcast_ttl":1,"peers":[]}]})");
    auto text = format_daemons(reply);
    REQUIRE(text.ok());
    // The lines of a Debian 12 node running ipvsadm --start-daemon master/backup.
    CHECK(*text ==
          "master sync daemon (mcast=ens18, syncid=1, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
          "backup sync daemon (mcast=ens18, syncid=2, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n");
    // dplb's unicast peers, only when there are some.
    reply["sync_daemons"] = json::array({reply["sync_daemons"][0]});
    reply["sync_daemons"][0]["peers"] = {"10.0.0.2", "10.0.0.3"};
    CHECK(*format_daemons(reply) ==
          "backup sync daemon (mcast=ens18, syncid=2, maxlen=1472, group=224.0.0.81, port=8848, ttl=1, "
          "peers=10.0.0.2,10.0.0.3)\n");
    // Nothing runs: nothing printed, as ipvsadm.
    CHECK(*format_daemons(json::parse(R"({"ok":true,"sync_daemons":[]})")) == "");
    CHECK_FALSE(format_daemons(json::parse(R"({"ok":true})")).ok());
}

TEST_CASE("dplbadm -R takes --start-daemon lines like any rule") {
    auto rules = parse_rules("-A -t 10.0.0.1:80 -s rr\n--start-daemon master --mcast-interface dplb0 --syncid 5\n");
    REQUIRE(rules.ok());
    REQUIRE(rules->size() == 2);
    CHECK((*rules)[1].request["cmd"] == "start-sync-daemon");
    CHECK((*rules)[1].request["daemon"]["syncid"] == 5);
}
