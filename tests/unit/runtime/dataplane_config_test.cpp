// The dataplane's own configuration file: every bad member is refused with its path and the
// reason; the members this issue added (workers, neighbors) and the long-standing ones parse.
#include <string>

#include <catch2/catch.hpp>

#include "dataplane/runtime/dataplane_config.hpp"

using dplb::runtime::parse_dataplane_config;

namespace {

// A valid two-port configuration with `extra` members spliced in ("" for none).
std::string config_with(const std::string& extra) {
    return R"({"eal": ["-l", "0,1"], )" + extra + (extra.empty() ? "" : ", ") +
           R"("ports": [{"name": "wan", "device": "net_tap0", "addresses": ["192.0.2.1/24"]},
                        {"name": "lan", "device": "net_tap1", "addresses": ["10.0.0.1/16"]}]})";
}

std::string error_of(const std::string& text) {
    auto r = parse_dataplane_config(text);
    REQUIRE_FALSE(r);
    return r.error().str();
}

}  // namespace

TEST_CASE("A valid dataplane configuration parses, with its defaults", "[dataplane_config]") {
    auto r = parse_dataplane_config(config_with(""));
    REQUIRE(r);
    CHECK(r->workers == 0);
    CHECK(r->ports.size() == 2);
    CHECK(r->neighbors.empty());
    CHECK(r->sessions_per_worker == (1u << 20));
}

TEST_CASE("workers: how many worker lcores to use", "[dataplane_config]") {
    auto r = parse_dataplane_config(config_with(R"("workers": 4)"));
    REQUIRE(r);
    CHECK(r->workers == 4);
    CHECK(error_of(config_with(R"("workers": 129)")).rfind("workers: ", 0) == 0);
    CHECK(error_of(config_with(R"("workers": -1)")).rfind("workers: ", 0) == 0);
    CHECK(error_of(config_with(R"("workers": "two")")).rfind("workers: ", 0) == 0);
}

TEST_CASE("neighbors: static entries on a port's network", "[dataplane_config]") {
    auto r = parse_dataplane_config(config_with(
        R"("neighbors": [{"port": "lan", "address": "10.0.1.1", "mac": "02:00:00:00:01:01"},
                         {"port": "wan", "address": "192.0.2.9", "mac": "02:00:00:00:01:02"}])"));
    REQUIRE(r);
    REQUIRE(r->neighbors.size() == 2);
    CHECK(r->neighbors[0].port == 1);
    CHECK(r->neighbors[0].address.str() == "10.0.1.1");
    CHECK(r->neighbors[0].mac.bytes[5] == 0x01);
    CHECK(r->neighbors[1].port == 0);

    CHECK(error_of(config_with(R"("neighbors": {})")) ==
          R"(neighbors: must be an array of {"port", "address", "mac"})");
    CHECK(error_of(config_with(R"("neighbors": [{"port": "dmz", "address": "10.0.1.1", "mac": "02:00:00:00:01:01"}])")) ==
          "neighbors[0].port: no port named 'dmz'");
    CHECK(error_of(config_with(R"("neighbors": [{"port": "lan", "address": "192.0.2.9", "mac": "02:00:00:00:01:01"}])")) ==
          "neighbors[0].address: 192.0.2.9 is not on a network of port 'lan'");
    CHECK(error_of(config_with(R"("neighbors": [{"port": "lan", "address": "10.0.1.1", "mac": "02:00:00:01:01"}])")) ==
          R"(neighbors[0].mac: must be a MAC address like "02:00:00:00:00:01")");
    CHECK(error_of(config_with(R"("neighbors": [{"port": "lan", "address": "10.0.1.x", "mac": "02:00:00:00:01:01"}])")) ==
          "neighbors[0].address: must be an IPv4 address");
    CHECK(error_of(config_with(R"("neighbors": [{"port": "lan", "address": "10.0.1.1", "mac": "02:00:00:00:01:01"},
                                                {"port": "lan", "address": "10.0.1.1", "mac": "02:00:00:00:01:02"}])")) ==
          "neighbors[1].address: duplicate neighbour 10.0.1.1 on port 'lan'");
    CHECK(error_of(config_with(R"("neighbors": [{"port": "lan", "address": "10.0.1.1", "mac": "02:00:00:00:01:01", "ttl": 5}])"))
              .rfind("neighbors[0]", 0) == 0);
}

TEST_CASE("Other members are checked with their paths too", "[dataplane_config]") {
    CHECK(error_of("{").find("not valid JSON") != std::string::npos);
    CHECK(error_of(config_with(R"("colour": "blue")")).find("colour") != std::string::npos);
    CHECK(error_of(config_with(R"("idle": "nap")")) == R"(idle: must be one of "auto", "interrupt", "sleep", "busy")");
    CHECK(error_of(config_with(R"("routes": [{"prefix": "0.0.0.0/0", "via": "203.0.113.1"}])")) ==
          "routes[0].via: gateway 203.0.113.1 is not on any port's network");
    CHECK(error_of(config_with(R"("local_port_range": [2000, 1000])")) ==
          "local_port_range: must be [first, last] with 1 <= first <= last <= 65535");
    CHECK(error_of(R"({"ports": []})") == "ports: must be a non-empty array of ports");
}

TEST_CASE("kernel_twin and the exception budgets (issue 12)", "[dataplane_config]") {
    auto none = parse_dataplane_config(config_with(""));
    REQUIRE(none);
    CHECK(none->ports[0].twin_name.empty());  // default: no twin, today's behaviour
    CHECK(none->exception_pps == 10000);
    CHECK(none->exception_control_pps == 100000);

    auto twin = [](const std::string& member) {
        return R"({"exception_pps": 500, "exception_control_pps": 0, "ports": [
                   {"name": "wan", "device": "net_tap0", "addresses": ["192.0.2.1/24"], )" +
               member + R"(}, {"name": "lan", "device": "net_tap1"}]})";
    };
    auto r = parse_dataplane_config(twin(R"("kernel_twin": {"name": "dplb0"})"));
    REQUIRE(r);
    CHECK(r->ports[0].twin_name == "dplb0");
    CHECK(r->ports[1].twin_name.empty());
    CHECK(r->exception_pps == 500);
    CHECK(r->exception_control_pps == 0);

    CHECK(error_of(twin(R"("kernel_twin": "dplb0")")) == "ports[0].kernel_twin: must be an object");
    CHECK(error_of(twin(R"("kernel_twin": {})")) == "ports[0].kernel_twin.name: is required");
    CHECK(error_of(twin(R"("kernel_twin": {"name": "dplb0", "mac": "x"})")) == "ports[0].kernel_twin.mac: unknown member");
    CHECK(error_of(twin(R"("kernel_twin": {"name": "a-very-long-name0"})")) ==
          "ports[0].kernel_twin.name: must be an interface name of 1 to 15 characters");
    CHECK(error_of(twin(R"("kernel_twin": {"name": "a,b=c"})")) ==
          "ports[0].kernel_twin.name: must be an interface name of 1 to 15 characters");
    CHECK(error_of(R"({"ports": [{"name": "a", "device": "net_tap0", "kernel_twin": {"name": "k0"}},
                                 {"name": "b", "device": "net_tap1", "kernel_twin": {"name": "k0"}}]})") ==
          "ports[1].kernel_twin.name: kernel twin 'k0' already used by port 'a'");
    CHECK(error_of(config_with(R"("exception_pps": -1)")).rfind("exception_pps: ", 0) == 0);
}

TEST_CASE("vip_ownership and sloppy_tcp (issue 12)", "[dataplane_config]") {
    using dplb::runtime::VipOwnershipMode;
    auto none = parse_dataplane_config(config_with(""));
    REQUIRE(none);
    CHECK(none->vip_ownership == VipOwnershipMode::always);  // default: today's behaviour
    CHECK_FALSE(none->sloppy_tcp);

    const std::string twin_port = R"("ports": [{"name": "wan", "device": "net_tap0", "addresses": ["192.0.2.1/24"],
                                                "kernel_twin": {"name": "dplb0", "netns": "lb"}}])";
    auto r = parse_dataplane_config(R"({"vip_ownership": "kernel", "sloppy_tcp": true, )" + twin_port + "}");
    REQUIRE(r);
    CHECK(r->vip_ownership == VipOwnershipMode::kernel);
    CHECK(r->sloppy_tcp);
    CHECK(r->ports[0].twin_netns == "lb");

    CHECK(error_of(config_with(R"("vip_ownership": "kernel")")) ==
          "vip_ownership: \"kernel\" needs a port with a kernel_twin (its addresses say which VIPs are held)");
    CHECK(error_of(config_with(R"("vip_ownership": "vrrp")")) == "vip_ownership: must be \"always\" or \"kernel\"");
    CHECK(error_of(config_with(R"("sloppy_tcp": 1)")) == "sloppy_tcp: must be true or false");
}
