// dplbadm --capture: its options, the libpcap check of the filter, and the dpdk-dumpcap
// command line it builds from dplb-control's status reply.
#include <catch2/catch.hpp>

#include "tools/dplbadm/args.hpp"
#include "tools/dplbadm/capture.hpp"

using namespace dplb::dplbadm;
using nlohmann::json;
using Argv = std::vector<std::string>;

namespace {

Invocation parse_ok(const Argv& args) {
    auto r = parse_args(args);
    if (!r) FAIL(r.error().str());
    return *r;
}

std::string parse_error(const Argv& args) {
    auto r = parse_args(args);
    REQUIRE_FALSE(r.ok());
    return r.error().str();
}

// What dplb-control's `status` answers with a dataplane whose EAL shares memory.
json status_reply(bool available = true) {
    json capture = {{"available", available}, {"file_prefix", "dplb"}};
    if (!available) capture["reason"] = "EAL runs without shared configuration (--in-memory or --no-shconf)";
    return {{"ok", true},
            {"dataplane", "connected"},
            {"dataplane_status",
             {{"ports", json::array({{{"name", "wan"}, {"port_id", 0}},
                                     {{"name", "lan"}, {"port_id", 1}, {"kernel_twin", {{"name", "dplb1"}, {"port_id", 3}}}}})},
              {"capture", capture}}}};
}

}  // namespace

TEST_CASE("dplbadm --capture: options, default bounds") {
    Invocation inv = parse_ok({"--socket", "/tmp/c.sock", "--capture", "lan", "-f", "host 10.0.0.1 and tcp port 80", "-w",
                               "/tmp/x.pcapng"});
    CHECK(inv.output == Output::capture);
    CHECK(inv.socket == "/tmp/c.sock");
    CHECK(inv.capture.port == "lan");
    CHECK(inv.capture.filter == "host 10.0.0.1 and tcp port 80");
    CHECK(inv.capture.file == "/tmp/x.pcapng");
    // Neither bound given: both defaults, so a capture never runs forever.
    CHECK(inv.capture.count == 1000);
    CHECK(inv.capture.duration == 60);
    inv = parse_ok({"--capture", "wan", "-c", "5", "--duration", "0"});
    CHECK(inv.capture.count == 5);
    CHECK(inv.capture.duration == 0);
    inv = parse_ok({"--capture", "wan", "--count", "0", "--duration", "3", "--filter", "udp"});
    CHECK(inv.capture.count == 0);
    CHECK(inv.capture.duration == 3);
    CHECK(inv.capture.filter == "udp");

    CHECK(parse_error({"--capture"}) == "--capture needs a port name (dplbadm --status lists the ports)");
    CHECK(parse_error({"--capture", "wan", "-c", "0", "--duration", "0"}) ==
          "a capture must stop by itself: give -c COUNT or --duration SECONDS greater than 0");
    CHECK(parse_error({"--capture", "wan", "-c", "ten"}) == "-c needs a non-negative integer, not 'ten'");
    CHECK(parse_error({"--capture", "wan", "-c", "-1"}) == "-c needs a non-negative integer, not '-1'");
    CHECK(parse_error({"--capture", "wan", "-t", "10.0.0.1:80"}) ==
          "--capture takes -f FILTER, -c COUNT, --duration SECONDS and -w FILE, not '-t'");
    CHECK(parse_error({"--capture", "wan", "-f"}).find("-f needs a filter in libpcap syntax") == 0);
}

TEST_CASE("dplbadm --capture: the filter is checked with libpcap") {
    CHECK_FALSE(check_capture_filter(""));
    CHECK_FALSE(check_capture_filter("host 192.168.227.200 and tcp port 80"));
    CHECK_FALSE(check_capture_filter("udp or icmp"));
    auto e = check_capture_filter("host and and");
    REQUIRE(e);
    CHECK(e->str().find("capture filter 'host and and': ") == 0);
    CHECK(e->str().find("syntax error") != std::string::npos);
    REQUIRE(check_capture_filter("tcp port 99999"));
}

TEST_CASE("dplbadm --capture: the dpdk-dumpcap command line") {
    CaptureOptions o;
    o.port = "lan";
    o.filter = "host 10.0.0.1 and tcp port 80";
    o.file = "/tmp/x.pcapng";
    auto argv = dumpcap_command(o, status_reply());
    REQUIRE(argv);
    CHECK(*argv == Argv{"dpdk-dumpcap", "--file-prefix=dplb", "-i", "1", "-p", "-f", "host 10.0.0.1 and tcp port 80",
                        "-c", "1000", "-a", "duration:60", "-w", "/tmp/x.pcapng"});
    // A kernel twin by its name; one bound off; no filter, no file.
    o = CaptureOptions{};
    o.port = "dplb1";
    o.count = 0;
    o.duration = 5;
    argv = dumpcap_command(o, status_reply());
    REQUIRE(argv);
    CHECK(*argv == Argv{"dpdk-dumpcap", "--file-prefix=dplb", "-i", "3", "-p", "-a", "duration:5"});

    o.port = "dmz";
    CHECK(dumpcap_command(o, status_reply()).error().str() == "no dataplane port 'dmz' (ports: wan, lan, dplb1)");
    o.port = "wan";
    CHECK(dumpcap_command(o, status_reply(false)).error().str() ==
          "capture is unavailable on this dataplane: EAL runs without shared configuration (--in-memory or --no-shconf)");
    CHECK(dumpcap_command(o, json{{"ok", true}, {"dataplane", "disconnected"}}).error().str().find(
              "the dataplane is not connected") == 0);
    json old = status_reply();
    old["dataplane_status"].erase("capture");
    CHECK(dumpcap_command(o, old).error().str().find("the dataplane does not report capture support") == 0);
}
