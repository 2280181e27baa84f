#include <catch2/catch.hpp>

#include "control/server/options.hpp"

using dplb::server::parse_options;

TEST_CASE("dplb-control options: defaults and overrides") {
    auto d = parse_options({});
    REQUIRE(d.ok());
    CHECK(d->socket == "/run/dplb/control.sock");
    CHECK(d->dataplane_socket == "/run/dplb/dataplane.sock");
    CHECK(d->state_file == "/var/lib/dplb/config.json");
    CHECK(d->max_request_bytes == 64u << 20);

    auto o = parse_options({"--socket", "/tmp/c.sock", "--dataplane-socket=/tmp/d.sock", "--state", "/tmp/s.json",
                            "--max-request-bytes", "4096"});
    REQUIRE(o.ok());
    CHECK(o->socket == "/tmp/c.sock");
    CHECK(o->dataplane_socket == "/tmp/d.sock");
    CHECK(o->state_file == "/tmp/s.json");
    CHECK(o->max_request_bytes == 4096);
    CHECK(parse_options({"--help"})->help);
}

TEST_CASE("dplb-control options: errors") {
    CHECK(parse_options({"--sock", "x"}).error().message == "unknown option '--sock'");
    CHECK(parse_options({"--state"}).error().message == "option --state needs a value");
    CHECK(parse_options({"--max-request-bytes", "12k"}).error().message ==
          "--max-request-bytes: '12k' is not a positive integer");
    CHECK_FALSE(parse_options({"--max-request-bytes=0"}).ok());
}

TEST_CASE("dplb-control options: keepalived.conf and passive checks") {
    auto d = parse_options({});
    CHECK(d->keepalived_conf.empty());
    CHECK(d->passive_check_seconds == 0);
    auto o = parse_options({"--keepalived-conf", "/etc/keepalived/keepalived.conf", "--passive-check=2.5"});
    REQUIRE(o.ok());
    CHECK(o->keepalived_conf == "/etc/keepalived/keepalived.conf");
    CHECK(o->passive_check_seconds == 2.5);
    CHECK(parse_options({"--passive-check", "0"}).error().message ==
          "--passive-check: '0' is not a number of seconds in (0, 86400]");
    CHECK_FALSE(parse_options({"--passive-check", "5s"}).ok());
    CHECK_FALSE(parse_options({"--keepalived-conf"}).ok());
}

TEST_CASE("dplb-control options: --log-level") {
    CHECK(parse_options({})->log_level == dplb::log::Level::info);
    CHECK(parse_options({"--log-level", "debug"})->log_level == dplb::log::Level::debug);
    CHECK(parse_options({"--log-level=warning"})->log_level == dplb::log::Level::warning);
    CHECK(parse_options({"--log-level", "loud"}).error().message ==
          "--log-level: 'loud' is not one of debug, info, notice, warning, error");
}
