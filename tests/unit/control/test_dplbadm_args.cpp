#include <catch2/catch.hpp>

#include "dplbadm_helpers.hpp"
#include "tools/dplbadm/args.hpp"

using namespace dplb::dplbadm;
using nlohmann::json;
using dplb::test::parse;
using dplb::test::usage_error;

namespace {

json key(const char* proto, const char* addr, int port) {
    return json{{"protocol", proto}, {"address", addr}, {"port", port}};
}

}  // namespace

TEST_CASE("dplbadm: the seed labs' service commands") {
    CHECK(parse("-A -t 192.168.10.100:80 -s rr").request ==
          json({{"cmd", "add-service"}, {"service", {{"protocol", "tcp"}, {"address", "192.168.10.100"},
                                                     {"port", 80}, {"scheduler", "rr"}}}}));
    CHECK(parse("-A -t 192.168.227.128:80 -s rr").request["service"]["address"] == "192.168.227.128");
    CHECK(parse("--add-service --udp-service 10.0.0.53:53 --scheduler=wrr").request ==
          json({{"cmd", "add-service"}, {"service", {{"protocol", "udp"}, {"address", "10.0.0.53"}, {"port", 53},
                                                     {"scheduler", "wrr"}}}}));
    // ipvsadm's default scheduler.
    CHECK(parse("-A -t 172.25.254.100:80").request["service"]["scheduler"] == "wlc");
    // -E, as in ipvsadm, sets every attribute of the service: what is not given goes back to
    // ipvsadm's defaults (not persistent, no flags; the mh table to its default size).
    CHECK(parse("-E -t 192.168.1.100:80 -s wrr").request ==
          json({{"cmd", "edit-service"},
                {"service", {{"protocol", "tcp"}, {"address", "192.168.1.100"}, {"port", 80}, {"scheduler", "wrr"},
                             {"persistence", nullptr}, {"sched_flags", json::array()}, {"mh_table_size", 65537},
                             {"expire_nodest_conn", false}}}}));
    CHECK(parse("-E -t 192.168.1.100:80 --expire-nodest-conn").request["service"]["expire_nodest_conn"] == true);
    CHECK(parse("-A -t 192.168.1.100:80 --expire-nodest-conn").request["service"]["expire_nodest_conn"] == true);
    CHECK_FALSE(parse("-A -t 192.168.1.100:80").request["service"].contains("expire_nodest_conn"));
    CHECK(parse("-E -t 192.168.1.100:80").request["service"]["scheduler"] == "wlc");
    CHECK(parse("-D -t 192.168.1.100:80").request ==
          json({{"cmd", "delete-service"}, {"service", key("tcp", "192.168.1.100", 80)}}));
    CHECK(parse("-C").request == json({{"cmd", "clear"}}));
    CHECK(parse("--clear").output == Output::ack);
}

TEST_CASE("dplbadm: the seed labs' real server commands") {
    auto nat = parse("-a -t 192.168.10.100:80 -r 192.168.20.11 -m");
    CHECK(nat.request == json({{"cmd", "add-real"},
                               {"service", key("tcp", "192.168.10.100", 80)},
                               {"real_server", {{"address", "192.168.20.11"}, {"port", 80}, {"forward", "nat"},
                                                {"weight", 1}}}}));
    auto with_port = parse("-a -t 192.168.227.128:80 -r 192.168.253.143:8080 -m -w 3");
    CHECK(with_port.request["real_server"] ==
          json({{"address", "192.168.253.143"}, {"port", 8080}, {"forward", "nat"}, {"weight", 3}}));
    // No method given: ipvsadm's default -g (DR), which dplb-control refuses as not supported yet.
    CHECK(parse("-a -t 192.168.1.100:80 -r 192.168.1.200").request["real_server"]["forward"] == "dr");
    CHECK(parse("-a -t 10.0.0.1:80 -r 10.1.1.1 -b").request["real_server"]["forward"] == "fullnat");
    CHECK(parse("-a -t 10.0.0.1:80 -r 10.1.1.1 --fullnat").request["real_server"]["forward"] == "fullnat");
    CHECK(parse("-a -t 10.0.0.1:80 -r 10.1.1.1 -i -w 3").request["real_server"]["forward"] == "tunnel");
    CHECK(parse("--add-server -t 10.0.0.1:80 --real-server 10.1.1.1:81 --masquerading --weight 0 "
                "--u-threshold 100 --l-threshold 10")
              .request["real_server"] == json({{"address", "10.1.1.1"}, {"port", 81}, {"forward", "nat"},
                                               {"weight", 0}, {"upper_threshold", 100}, {"lower_threshold", 10}}));
    // -e sends only what is given.
    CHECK(parse("-e -t 192.168.1.100:80 -r 192.168.1.200 -g -w 10").request ==
          json({{"cmd", "edit-real"},
                {"service", key("tcp", "192.168.1.100", 80)},
                {"real_server", {{"address", "192.168.1.200"}, {"port", 80}, {"forward", "dr"}, {"weight", 10}}}}));
    CHECK(parse("-e -t 10.0.0.1:80 -r 10.1.1.1 -w 0").request["real_server"] ==
          json({{"address", "10.1.1.1"}, {"port", 80}, {"weight", 0}}));
    CHECK(parse("-d -t 192.168.1.100:80 -r 192.168.1.200").request ==
          json({{"cmd", "delete-real"}, {"service", key("tcp", "192.168.1.100", 80)},
                {"real_server", {{"address", "192.168.1.200"}, {"port", 80}}}}));
}

TEST_CASE("dplbadm: listing, zero, timeouts") {
    auto ln = parse("-Ln");
    CHECK(ln.output == Output::list);
    CHECK(ln.request == json({{"cmd", "list"}}));
    CHECK_FALSE(ln.list.stats);
    CHECK_FALSE(ln.list.one_service);
    CHECK(parse("-L -n").request == json({{"cmd", "list"}}));
    CHECK(parse("-l").output == Output::list);
    CHECK(parse("").request == json({{"cmd", "list"}}));  // bare ipvsadm lists
    auto stats = parse("-L -n --stats --exact -t 10.0.0.1:80");
    CHECK(stats.list.stats);
    CHECK(stats.list.exact);
    CHECK(stats.list.one_service);
    CHECK(stats.request == json({{"cmd", "list"}, {"service", key("tcp", "10.0.0.1", 80)}}));
    auto t = parse("-L --timeout");
    CHECK(t.output == Output::timeouts);
    CHECK(t.request == json({{"cmd", "get-config"}}));
    CHECK(parse("-Z").request == json({{"cmd", "zero"}}));
    CHECK(parse("-Z -u 10.0.0.53:53").request == json({{"cmd", "zero"}, {"service", key("udp", "10.0.0.53", 53)}}));
    CHECK(parse("--set 900 0 60").request == json({{"cmd", "set-timeouts"}, {"timeouts", {{"tcp", 900}, {"udp", 60}}}}));
}

TEST_CASE("dplbadm: local addresses, status, socket, json") {
    CHECK(parse("--add-laddr -z 192.168.100.200 -t 10.0.0.100:80").request ==
          json({{"cmd", "add-laddr"}, {"service", key("tcp", "10.0.0.100", 80)}, {"address", "192.168.100.200"}}));
    CHECK(parse("-P -z 192.168.100.200 -t 10.0.0.100:80").request["cmd"] == "add-laddr");
    CHECK(parse("--del-laddr -z 192.168.100.200 -t 10.0.0.100:80").request["cmd"] == "delete-laddr");
    auto g = parse("--get-laddr");
    CHECK(g.output == Output::laddrs);
    CHECK(g.request == json({{"cmd", "get-laddr"}}));
    CHECK(parse("-G -t 10.0.0.100:80").request["service"] == key("tcp", "10.0.0.100", 80));
    auto st = parse("--status --socket /tmp/x.sock --json");
    CHECK(st.output == Output::status);
    CHECK(st.request == json({{"cmd", "status"}}));
    CHECK(st.socket == "/tmp/x.sock");
    CHECK(st.raw_json);
    CHECK(parse("--help").output == Output::help);
    CHECK(parse("-h").output == Output::help);
    // popt-style clusters and attached values.
    CHECK(parse("-at 10.0.0.1:80 -r10.1.1.1 -mw3").request["real_server"] ==
          json({{"address", "10.1.1.1"}, {"port", 80}, {"forward", "nat"}, {"weight", 3}}));
}

TEST_CASE("dplbadm: usage errors name the bad text") {
    CHECK(usage_error("-A -t 10.0.0.300:80 -s rr") ==
          "invalid service address '10.0.0.300:80': '10.0.0.300' is not a dotted-quad IPv4 address");
    CHECK(usage_error("-A -t 10.0.0.1:http") ==
          "invalid service address '10.0.0.1:http': port 'http' is not a number 0..65535");
    CHECK(usage_error("-A -t 10.0.0.1:65536") ==
          "invalid service address '10.0.0.1:65536': port '65536' is not a number 0..65535");
    CHECK(usage_error("-a -t 10.0.0.1:80 -r 10.1.1:80 -m") ==
          "invalid real server address '10.1.1:80': '10.1.1' is not a dotted-quad IPv4 address");
    CHECK(usage_error("-a -t 10.0.0.1:80 -r 10.1.1.1 -w 65536") == "invalid weight '65536' (expected 0..65535)");
    CHECK(usage_error("-a -t 10.0.0.1:80 -r 10.1.1.1 --expire-nodest-conn") ==
          "option --expire-nodest-conn is not allowed with -a");
    CHECK(usage_error("-a -t 10.0.0.1:80 -r 10.1.1.1 -w x") == "invalid weight 'x' (expected 0..65535)");
    CHECK(usage_error("-A -s rr") == "-A needs a service: -t|-u VIP:PORT or -f MARK");
    CHECK(usage_error("-a -t 10.0.0.1:80 -m") == "-a needs -r");
    CHECK(usage_error("-A -D -t 10.0.0.1:80") == "multiple commands specified");
    CHECK(usage_error("-A -t 10.0.0.1:80 -u 10.0.0.1:80") == "multiple service addresses specified (-t/-u/-f)");
    CHECK(usage_error("-A -t 10.0.0.1:80 -f 66") == "multiple service addresses specified (-t/-u/-f)");
    CHECK(usage_error("-a -t 10.0.0.1:80 -r 10.1.1.1 -m -b") == "multiple forwarding methods specified (-m/-b/-g/-i)");
    CHECK(usage_error("-A -t 10.0.0.1:80 -w 3") == "option -w is not allowed with -A");
    CHECK(usage_error("-C -t 10.0.0.1:80") == "option -t is not allowed with -C");
    CHECK(usage_error("-A -u 10.0.0.1:53 -s rr -o") == "option -o (one-packet scheduling) is not supported");
    CHECK(usage_error("--pe sip") == "option --pe (persistence engines) is not supported");
    CHECK(usage_error("-Lq") == "unknown option '-q'");
    CHECK(usage_error("--lsit") == "unknown option '--lsit'");
    CHECK(usage_error("-A -t") == "option -t needs a value");
    CHECK(usage_error("-L extra") == "unexpected argument 'extra'");
    CHECK(usage_error("--set 900 120") == "--set needs 3 timeout values: tcp tcpfin udp");
    CHECK(usage_error("-n").rfind("no command specified", 0) == 0);
    CHECK(usage_error("--add-laddr -z 10.2.0.1:80 -t 10.0.0.1:80") ==
          "invalid local address '10.2.0.1:80': no port expected");
}

TEST_CASE("dplbadm --help lists every command and option") {
    std::string u = usage();
    for (const char* s : {"--add-service", "--edit-service", "--delete-service", "--clear", "--add-server",
                          "--edit-server", "--delete-server", "--list", "--zero", "--set", "--add-laddr",
                          "--del-laddr", "--get-laddr", "--status", "--help", "--tcp-service", "--udp-service",
                          "--scheduler", "--real-server", "--masquerading", "--fullnat", "--gatewaying", "--ipip",
                          "--weight", "--u-threshold", "--l-threshold", "--laddr", "--numeric", "--stats", "--exact",
                          "--timeout", "--json", "--socket"})
        CHECK(u.find(s) != std::string::npos);
}

TEST_CASE("dplbadm --import-keepalived takes one file") {
    auto inv = parse_args({"--import-keepalived", "/etc/keepalived/keepalived.conf"});
    REQUIRE(inv.ok());
    CHECK(inv->output == Output::import_keepalived);
    CHECK(inv->file == "/etc/keepalived/keepalived.conf");
    CHECK_FALSE(parse_args({"--import-keepalived"}).ok());
    CHECK_FALSE(parse_args({"--import-keepalived", "a.conf", "b.conf"}).ok());
    CHECK_FALSE(parse_args({"--import-keepalived", "a.conf", "-t", "10.0.0.1:80"}).ok());
}
