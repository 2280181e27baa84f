#include <catch2/catch.hpp>

#include "codec/config_json.hpp"
#include "model/validate.hpp"
#include "helpers.hpp"

using namespace dplb;
using namespace dplb::model;
using dplb::test::J;

namespace {

// One service with `member` replaced, decoded and validated as a whole configuration.
Error config_error(const std::string& service_json) {
    auto r = config_from_json(nlohmann::json::parse(R"({"services":[)" + service_json + "]}"));
    REQUIRE_FALSE(r.ok());
    return r.error();
}

}  // namespace

TEST_CASE("unknown schedulers; every IPVS scheduler and forward method is supported") {
    auto unknown = config_error(R"({"protocol":"tcp","address":"10.0.0.100","port":80,"scheduler":"rrr"})");
    CHECK(unknown.field == "config.services[0].scheduler");
    CHECK(unknown.message ==
          "unknown scheduler 'rrr' (expected one of: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh)");
    for (const char* name : {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}) {
        auto s = config::parse_scheduler(name);
        REQUIRE(s);
        CHECK_FALSE(check_scheduler(*s, "f"));
    }
    for (auto f : {config::ForwardMethod::nat, config::ForwardMethod::fullnat, config::ForwardMethod::dr,
                   config::ForwardMethod::tunnel})
        CHECK_FALSE(check_forward(f, "f"));
}

TEST_CASE("addresses must be strict dotted quads and usable unicast") {
    struct Case {
        const char* address;
        const char* message;
    };
    Case cases[] = {
        {"10.0.0", "'10.0.0' is not a dotted-quad IPv4 address"},
        {"10.0.0.256", "'10.0.0.256' is not a dotted-quad IPv4 address"},
        {"10.0.0.1 ", "'10.0.0.1 ' is not a dotted-quad IPv4 address"},
        {"vip.example", "'vip.example' is not a dotted-quad IPv4 address"},
        {"0.0.0.0", "'0.0.0.0' is not a usable unicast address (unspecified)"},
        {"255.255.255.255", "'255.255.255.255' is not a usable unicast address (broadcast)"},
        {"224.0.0.1", "'224.0.0.1' is not a usable unicast address (multicast)"},
        {"239.255.255.250", "'239.255.255.250' is not a usable unicast address (multicast)"},
    };
    for (const auto& c : cases) {
        INFO(c.address);
        std::string addr = c.address;
        auto vip = config_error(R"({"protocol":"tcp","address":")" + addr + R"(","port":80,"scheduler":"rr"})");
        CHECK(vip.field == "config.services[0].address");
        CHECK(vip.message == c.message);
        auto rip = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
            "real_servers":[{"address":")" + addr + R"("}]})");
        CHECK(rip.field == "config.services[0].real_servers[0].address");
        auto lip = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
            "local_addresses":[")" + addr + R"("]})");
        CHECK(lip.field == "config.services[0].local_addresses[0]");
    }
}

TEST_CASE("ports are 0..65535, and 0 only where it means every port") {
    for (const char* port : {"65536", "-1"}) {
        INFO(port);
        auto e = config_error(std::string(R"({"protocol":"tcp","address":"10.0.0.1","scheduler":"rr","port":)") + port +
                              "}");
        CHECK(e.field == "config.services[0].port");
        CHECK(e.message == "must be between 0 and 65535");
        auto r = config_error(std::string(R"({"protocol":"tcp","address":"10.0.0.1","scheduler":"rr","port":80,
            "real_servers":[{"address":"10.1.1.1","port":)") + port + "}]}");
        CHECK(r.field == "config.services[0].real_servers[0].port");
    }
    auto zero = config_error(R"({"protocol":"tcp","address":"10.0.0.1","scheduler":"rr","port":0})");
    CHECK(zero.field == "config.services[0].port");
    CHECK(zero.message == "port 0 (all ports) is only allowed for persistent services");
    auto rs_zero = config_error(R"({"protocol":"tcp","address":"10.0.0.1","scheduler":"rr","port":80,
        "real_servers":[{"address":"10.1.1.1","port":0}]})");
    CHECK(rs_zero.field == "config.services[0].real_servers[0].port");
    CHECK(rs_zero.message == "port 0 (the client's destination port) is only allowed in fwmark and port-0 services");
    CHECK(config_from_json(J(R"({"services":[{"protocol":"udp","address":"10.0.0.1","port":65535,"scheduler":"rr"},
        {"protocol":"udp","address":"10.0.0.1","port":1,"scheduler":"rr"}]})")).ok());
}

TEST_CASE("weights are 0..65535 and thresholds non-negative") {
    auto w = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"wrr",
        "real_servers":[{"address":"10.1.1.1","weight":65536}]})");
    CHECK(w.field == "config.services[0].real_servers[0].weight");
    CHECK(w.message == "must be between 0 and 65535");
    CHECK(config_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"wrr",
        "real_servers":[{"address":"10.1.1.1","weight":0},{"address":"10.1.1.2","weight":65535}]}]})")).ok());
    auto t = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"wrr",
        "real_servers":[{"address":"10.1.1.1","upper_threshold":-1}]})");
    CHECK(t.field == "config.services[0].real_servers[0].upper_threshold");
}

TEST_CASE("forward methods: DR and TUN cannot change the port; unknown methods") {
    CHECK(config_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "real_servers":[{"address":"10.1.1.1","forward":"dr"},{"address":"10.1.1.2","forward":"tunnel"},
        {"address":"10.1.1.3","port":8080,"forward":"nat"}]}]})")).ok());
    auto dr = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "real_servers":[{"address":"10.1.1.1","port":8080,"forward":"dr"}]})");
    CHECK(dr.field == "config.services[0].real_servers[0].port");
    CHECK(dr.message == "dr cannot change the port: the real server must use the service's port 80, not 8080");
    auto tun = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "real_servers":[{"address":"10.1.1.1","port":81,"forward":"tunnel"}]})");
    CHECK(tun.message == "tunnel cannot change the port: the real server must use the service's port 80, not 81");
    auto fwm = config_error(R"({"fwmark":66,"scheduler":"rr",
        "real_servers":[{"address":"10.1.1.1","port":80,"forward":"dr"}]})");
    CHECK(fwm.message == "dr cannot change the port: the real server must use port 0 (the client's port), not 80");
    auto bad = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "real_servers":[{"address":"10.1.1.1","forward":"masq"}]})");
    CHECK(bad.message == "unknown forward method 'masq' (expected one of: nat, fullnat, dr, tunnel)");
}

TEST_CASE("protocol must be tcp or udp") {
    auto e = config_error(R"({"protocol":"sctp","address":"10.0.0.1","port":80,"scheduler":"rr"})");
    CHECK(e.field == "config.services[0].protocol");
    CHECK(e.message == "unknown protocol 'sctp' (expected tcp or udp)");
}

TEST_CASE("duplicates: services, real servers, local addresses") {
    auto svc = config_from_json(J(R"({"services":[
        {"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr"},
        {"protocol":"udp","address":"10.0.0.1","port":80,"scheduler":"rr"},
        {"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"wrr"}]})"));
    REQUIRE_FALSE(svc.ok());
    CHECK(svc.error().field == "config.services[2]");
    CHECK(svc.error().message == "duplicate service tcp 10.0.0.1:80 (also services[0])");

    auto rs = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "real_servers":[{"address":"10.1.1.1"},{"address":"10.1.1.1","port":8080},{"address":"10.1.1.1","port":80}]})");
    CHECK(rs.field == "config.services[0].real_servers[2]");
    CHECK(rs.message == "duplicate real server 10.1.1.1:80 (also real_servers[0])");

    auto lip = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "local_addresses":["10.2.0.1","10.2.0.2","10.2.0.1"]})");
    CHECK(lip.field == "config.services[0].local_addresses[2]");
    CHECK(lip.message == "duplicate local address 10.2.0.1 (also local_addresses[0])");
}

TEST_CASE("a service with a fullnat real server needs a local address") {
    auto e = config_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "real_servers":[{"address":"10.1.1.1","forward":"nat"},{"address":"10.1.1.2","forward":"fullnat"}]})");
    CHECK(e.field == "config.services[0].local_addresses");
    CHECK(e.message ==
          "service tcp 10.0.0.1:80 has fullnat real servers but no local address (add one with --add-laddr)");
    CHECK(config_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "local_addresses":["10.2.0.1"],"real_servers":[{"address":"10.1.1.2","forward":"fullnat"}]}]})")).ok());
}

TEST_CASE("global timeouts are 1..2000000") {
    for (const char* t : {R"({"tcp":0})", R"({"tcp_fin":31536001})", R"({"udp":0})"}) {
        INFO(t);
        auto r = config_from_json(J((std::string(R"({"timeouts":)") + t + "}").c_str()));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().field.rfind("config.timeouts.", 0) == 0);
        CHECK(r.error().message == "must be between 1 and 2000000");
    }
    CHECK(config_from_json(J(R"({"timeouts":{"tcp":1,"tcp_fin":2000000,"udp":300}})")).ok());
    config::Timeouts zero{0, 120, 300};
    auto e = validate_timeouts(zero, "timeouts");
    REQUIRE(e);
    CHECK(e->field == "timeouts.tcp");
}

TEST_CASE("validate_config catches what code (not JSON) built") {
    config::Config c = test::nat_lab();
    CHECK_FALSE(validate_config(c));
    c.services[0].reals[1].port = 0;
    auto e = validate_config(c);
    REQUIRE(e);
    CHECK(e->field == "config.services[0].real_servers[1].port");
}
