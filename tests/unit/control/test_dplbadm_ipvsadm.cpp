// dplbadm's argv parser on the whole ipvsadm command set, and every ipvsadm line of the
// seed documents (../shared/seeds/000, 001, 002) run through it unchanged.
#include <catch2/catch.hpp>

#include "control/api/mutations.hpp"
#include "dplbadm_helpers.hpp"
#include "tools/dplbadm/args.hpp"

using namespace dplb;
using namespace dplb::dplbadm;
using nlohmann::json;
using dplb::test::parse;
using dplb::test::usage_error;

namespace {

// Runs command lines through the parser and dplb-control's handlers, as a session would.
config::Config session(std::initializer_list<const char*> lines, config::Config c = {}) {
    for (const char* line : lines) {
        Invocation inv = parse(line);
        if (inv.output != Output::ack) continue;  // listings change nothing
        auto next = api::apply_mutation(c, inv.request);
        INFO(line);
        if (!next.ok()) FAIL(next.error().str());
        c = *next;
    }
    return c;
}

}  // namespace

TEST_CASE("seed 000: the NAT lab, its listing and its save") {
    config::Config c = session({
        "ipvsadm -A -t 192.168.227.128:80 -s rr",
        "ipvsadm -a -t 192.168.227.128:80 -r 192.168.253.143:80 -m",
        "ipvsadm -a -t 192.168.227.128:80 -r 192.168.253.144:80 -m",
        "ipvsadm -Ln",
    });
    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].reals.size() == 2);
    CHECK(c.services[0].reals[1].forward == config::ForwardMethod::nat);
    CHECK(parse("ipvsadm -Ln").output == Output::list);
    auto save = parse("ipvsadm -Sn");
    CHECK(save.output == Output::save);
    CHECK(save.request == json({{"cmd", "get-config"}}));
}

TEST_CASE("seed 001: the command table, every line") {
    for (const char* line : {"ipvsadm -A -t 192.168.1.100:80 -s rr", "ipvsadm -E -t 192.168.1.100:80 -s wrr",
                             "ipvsadm -D -t 192.168.1.100:80", "ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.200 -m",
                             "ipvsadm -e -t 192.168.1.100:80 -r 192.168.1.200 -g -w 10",
                             "ipvsadm -d -t 192.168.1.100:80 -r 192.168.1.200", "ipvsadm -L -n", "ipvsadm -C",
                             "ipvsadm -S", "ipvsadm -R"})
        parse(line);
    CHECK(parse("ipvsadm -R").output == Output::restore);
    CHECK(parse("ipvsadm -R").request.is_null());
    // As a session: the table's lines in an order that works.
    config::Config c = session({
        "ipvsadm -A -t 192.168.1.100:80 -s rr",
        "ipvsadm -E -t 192.168.1.100:80 -s wrr",
        "ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.200 -m",
        "ipvsadm -e -t 192.168.1.100:80 -r 192.168.1.200 -g -w 10",
    });
    CHECK(c.services[0].scheduler == config::Scheduler::wrr);
    CHECK(c.services[0].reals[0].forward == config::ForwardMethod::dr);
    CHECK(c.services[0].reals[0].weight == 10);
    c = session({"ipvsadm -d -t 192.168.1.100:80 -r 192.168.1.200", "ipvsadm -D -t 192.168.1.100:80"}, c);
    CHECK(c.services.empty());
}

TEST_CASE("seed 001: the DR lab and the fwmark lab (with the port group for the iptables mark)") {
    config::Config dr = session({
        "ipvsadm -A -t 192.168.0.200:80 -s rr",
        "ipvsadm -a -t 192.168.0.200:80 -r 192.168.0.10 -g",
        "ipvsadm -a -t 192.168.0.200:80 -r 192.168.0.20 -g",
    });
    CHECK(dr.services[0].reals[1].port == 80);
    // iptables -t mangle -A PREROUTING -d 192.168.0.200 -p tcp -m multiport --dports 80,443
    //          -j MARK --set-mark 66 is, for dplb, the port group of mark 66:
    config::Config c = session({
        "ipvsadm -C",
        "ipvsadm -Ln",
        "dplbadm --add-mark -f 66 -t 192.168.0.200:80",
        "dplbadm --add-mark -f 66 -t 192.168.0.200:443",
        "ipvsadm -A -f 66 -s rr",
        "ipvsadm -a -f 66 -r 192.168.0.10 -g",
        "ipvsadm -a -f 66 -r 192.168.0.20 -g",
        "ipvsadm -Ln",
    }, dr);
    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].key.fwmark == 66);
    CHECK(c.services[0].reals[0].port == 0);  // shown as 192.168.0.10:0, as ipvsadm shows it
    REQUIRE(c.port_groups.size() == 1);
    CHECK(c.port_groups[0].matches.size() == 2);
    CHECK(parse("ipvsadm -A -f 66 -s rr").request ==
          json({{"cmd", "add-service"}, {"service", {{"fwmark", 66}, {"scheduler", "rr"}}}}));
    CHECK(parse("ipvsadm -a -f 66 -r 192.168.0.10 -g").request ==
          json({{"cmd", "add-real"},
                {"service", {{"fwmark", 66}}},
                {"real_server", {{"address", "192.168.0.10"}, {"port", 0}, {"forward", "dr"}, {"weight", 1}}}}));
}

TEST_CASE("seed 002: the TUN lab") {
    config::Config c = session({
        "ipvsadm -C",
        "ipvsadm -A -t 192.168.0.254:80 -s wlc",
        "ipvsadm -a -t 192.168.0.254:80 -r 192.168.0.1 -i -w 3",
        "ipvsadm -a -t 192.168.0.254:80 -r 192.168.1.201 -i -w 1",
        "ipvsadm",
    });
    REQUIRE(c.services[0].reals.size() == 2);
    CHECK(c.services[0].scheduler == config::Scheduler::wlc);
    CHECK(c.services[0].reals[0].forward == config::ForwardMethod::tunnel);
    CHECK(c.services[0].reals[0].weight == 3);
    CHECK(parse("ipvsadm").output == Output::list);
}

TEST_CASE("persistence: -p with an optional timeout, -M") {
    auto p = parse("-A -t 10.0.0.1:80 -s rr -p");
    CHECK(p.request["service"]["persistence"] == json({{"timeout", 300}}));
    CHECK(parse("-A -t 10.0.0.1:80 -p 600 -s rr").request["service"]["persistence"] == json({{"timeout", 600}}));
    CHECK(parse("-A -t 10.0.0.1:80 -p600").request["service"]["persistence"]["timeout"] == 600);
    CHECK(parse("-A -t 10.0.0.1:80 --persistent=60").request["service"]["persistence"]["timeout"] == 60);
    CHECK(parse("-A -t 10.0.0.1:80 --persistent -s sh").request["service"]["persistence"]["timeout"] == 300);
    CHECK(parse("-A -t 10.0.0.1 -p -M 255.255.255.0").request["service"] ==
          json({{"protocol", "tcp"}, {"address", "10.0.0.1"}, {"port", 0}, {"scheduler", "wlc"},
                {"persistence", {{"timeout", 300}, {"netmask", "255.255.255.0"}}}}));
    CHECK(usage_error("-A -t 10.0.0.1:80 -M 255.255.255.0") == "-M (persistence granularity) needs -p (persistence)");
    CHECK(usage_error("-A -t 10.0.0.1:80 -p 0") == "invalid persistence timeout '0' (expected 1..2000000)");
    CHECK(usage_error("-A -t 10.0.0.1:80 -p -M 255.255.255") == "invalid netmask '255.255.255'");
    // -E without -p makes the service non-persistent, as in ipvsadm.
    CHECK(parse("-E -t 10.0.0.1:80 -s rr").request["service"]["persistence"].is_null());
}

TEST_CASE("-b: scheduler flags on -A/-E, FULLNAT on -a/-e") {
    CHECK(parse("-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port").request["service"]["sched_flags"] ==
          json({"sh-fallback", "sh-port"}));
    CHECK(parse("-A -t 10.0.0.1:80 -s mh --sched-flags flag-1,flag-2").request["service"]["sched_flags"] ==
          json({"mh-fallback", "mh-port"}));
    CHECK(parse("-E -t 10.0.0.1:80 -s sh -b flag-2").request["service"]["sched_flags"] == json({"sh-port"}));
    CHECK(parse("-A -t 10.0.0.1:80 -s mh -b sh-port").request["service"]["sched_flags"] == json({"sh-port"}));
    CHECK(usage_error("-A -t 10.0.0.1:80 -s rr -b flag-1") ==
          "scheduler flag 'flag-1' means nothing to the rr scheduler (only sh and mh have flags)");
    CHECK(usage_error("-A -t 10.0.0.1:80 -b flag-1") ==
          "scheduler flag 'flag-1' means nothing to the wlc scheduler (only sh and mh have flags)");
    CHECK(usage_error("-A -t 10.0.0.1:80 -s sh -b flag-3") == "scheduler flag 'flag-3' means nothing to any dplb scheduler");
    CHECK(usage_error("-A -t 10.0.0.1:80 -s sh -b sh-fast") ==
          "invalid scheduler flag 'sh-fast' (expected sh-fallback, sh-port, mh-fallback, mh-port, flag-1 or flag-2)");
    CHECK(parse("-a -t 10.0.0.1:80 -r 10.1.1.1 -b").request["real_server"]["forward"] == "fullnat");
    CHECK(parse("-e -t 10.0.0.1:80 -r 10.1.1.1 -b -w 2").request["real_server"]["forward"] == "fullnat");
    CHECK(usage_error("-a -t 10.0.0.1:80 -r 10.1.1.1 --sched-flags sh-port") == "option -b is not allowed with -a");
    CHECK(usage_error("-A -t 10.0.0.1:80 --fullnat") == "option -b is not allowed with -A");
}

TEST_CASE("--mh-table-size, every scheduler, thresholds") {
    CHECK(parse("-A -t 10.0.0.1:80 -s mh --mh-table-size 131071").request["service"]["mh_table_size"] == 131071);
    CHECK(parse("-E -t 10.0.0.1:80 -s mh").request["service"]["mh_table_size"] == 65537);
    for (const char* s : {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"})
        CHECK(parse(std::string("-A -t 10.0.0.1:80 -s ") + s).request["service"]["scheduler"] == s);
    CHECK(parse("-a -t 10.0.0.1:80 -r 10.1.1.1 -m -x 100 -y 10").request["real_server"] ==
          json({{"address", "10.1.1.1"}, {"port", 80}, {"forward", "nat"}, {"weight", 1}, {"upper_threshold", 100},
                {"lower_threshold", 10}}));
    CHECK(usage_error("-a -t 10.0.0.1:80 -r 10.1.1.1 -x 2147483648") ==
          "invalid u-threshold '2147483648' (expected 0..2147483647)");
}

TEST_CASE("-f names a service everywhere -t does") {
    json fwm{{"fwmark", 66}};
    CHECK(parse("-D -f 66").request == json({{"cmd", "delete-service"}, {"service", fwm}}));
    CHECK(parse("-d -f 66 -r 192.168.0.10").request["real_server"] == json({{"address", "192.168.0.10"}, {"port", 0}}));
    CHECK(parse("-e -f 66 -r 192.168.0.10:0 -w 0").request["real_server"] ==
          json({{"address", "192.168.0.10"}, {"port", 0}, {"weight", 0}}));
    CHECK(parse("-L -f 66").request == json({{"cmd", "list"}, {"service", fwm}}));
    CHECK(parse("-Z --fwmark-service 66").request == json({{"cmd", "zero"}, {"service", fwm}}));
    CHECK(parse("--add-laddr -z 10.2.0.1 -f 66").request["service"] == fwm);
    CHECK(parse("--set 60 0 0 -f 66").request ==
          json({{"cmd", "set-timeouts"}, {"timeouts", {{"tcp", 60}}}, {"service", fwm}}));
    CHECK(usage_error("-A -f 0 -s rr") == "invalid fwmark '0' (expected 1..4294967295)");
    CHECK(usage_error("-A -f 4294967296") == "invalid fwmark '4294967296' (expected 1..4294967295)");
}

TEST_CASE("port groups: --add-mark, --del-mark, --get-mark") {
    CHECK(parse("--add-mark -f 66 -t 192.168.0.200:80").request ==
          json({{"cmd", "add-port-group"},
                {"port_group",
                 {{"mark", 66}, {"matches", {{{"protocol", "tcp"}, {"address", "192.168.0.200"}, {"port", 80}}}}}}}));
    CHECK(parse("--add-mark -f 66 -u 192.168.0.200:8000-8100").request["port_group"]["matches"][0] ==
          json({{"protocol", "udp"}, {"address", "192.168.0.200"}, {"port_range", {8000, 8100}}}));
    CHECK(parse("--del-mark -f 66").request == json({{"cmd", "delete-port-group"}, {"mark", 66}}));
    CHECK(parse("--del-mark -f 66 -t 192.168.0.200:443").request["match"] ==
          json({{"protocol", "tcp"}, {"address", "192.168.0.200"}, {"port", 443}}));
    auto get = parse("--get-mark");
    CHECK(get.output == Output::port_groups);
    CHECK(get.request == json({{"cmd", "get-port-groups"}}));
    CHECK(parse("--get-mark -f 7").request == json({{"cmd", "get-port-groups"}, {"mark", 7}}));
    CHECK(usage_error("--add-mark -f 66") == "--add-mark needs -f MARK and -t|-u VIP:PORT[-PORT]");
    CHECK(usage_error("--add-mark -t 192.168.0.200:80") == "--add-mark needs -f MARK and -t|-u VIP:PORT[-PORT]");
    CHECK(usage_error("--del-mark -t 192.168.0.200:80") == "--del-mark needs -f MARK");
    CHECK(usage_error("--get-mark -t 192.168.0.200:80") == "option -t is not allowed with --get-mark");
    CHECK(usage_error("--add-mark -f 66 -t 192.168.0.200") ==
          "invalid port group match '192.168.0.200': no port (expected VIP:PORT or VIP:FIRST-LAST)");
    CHECK(usage_error("--add-mark -f 66 -t 192.168.0.200:80-x") ==
          "invalid port group match '192.168.0.200:80-x': 'x' is not a port 1..65535 (expected VIP:PORT or "
          "VIP:FIRST-LAST)");
}

TEST_CASE("listing options: --rate, --thresholds, --persistent-conn, -c, --sort, --timeout") {
    auto rate = parse("-L -n --rate");
    CHECK(rate.output == Output::list);
    CHECK(rate.list.rate);
    CHECK(parse("-Ln --thresholds").list.thresholds);
    CHECK(parse("-Ln --persistent-conn").list.persistent_conn);
    CHECK(parse("-Ln --sort").list.sort);
    CHECK_FALSE(parse("-Ln --nosort").list.sort);
    auto conns = parse("-Lnc");
    CHECK(conns.output == Output::connections);
    CHECK(conns.request == json({{"cmd", "connections"}}));
    CHECK(parse("-L --connection -t 10.0.0.1:80").request["service"]["port"] == 80);
    auto t = parse("-L --timeout -t 10.0.0.1:80");
    CHECK(t.output == Output::timeouts);
    CHECK(t.request == json({{"cmd", "get-config"}}));
    CHECK(t.service["address"] == "10.0.0.1");
    CHECK(usage_error("-L -c --stats") == "-c cannot be combined with --stats, --rate, --thresholds or --persistent-conn");
    CHECK(usage_error("-L --timeout --rate") ==
          "--timeout cannot be combined with --stats, --rate, --thresholds or --persistent-conn");
    CHECK(usage_error("-L -c --timeout") == "-c and --timeout cannot be combined");
    CHECK(usage_error("-S -c") == "option -c is not allowed with -S");
    CHECK(parse("-S --nosort").list.sort == false);
    CHECK(usage_error("-R -t 10.0.0.1:80") == "option -t is not allowed with -R");
}
