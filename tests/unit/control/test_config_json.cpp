#include <catch2/catch.hpp>

#include "codec/config_json.hpp"
#include "codec/json_parse.hpp"
#include "helpers.hpp"

using namespace dplb;
using namespace dplb::model;
using dplb::test::J;

TEST_CASE("config JSON round trip keeps every field") {
    config::Config c = test::nat_lab();
    c.timeouts = {800, 100, 200};
    auto& s = c.services[0];
    s.scheduler = config::Scheduler::wrr;
    s.local_addresses = {*Ip4::parse("192.168.100.200"), *Ip4::parse("192.168.100.201")};
    s.reals[1].forward = config::ForwardMethod::fullnat;
    s.reals[1].weight = 0;
    s.reals[1].port = 8080;
    config::Service udp;
    udp.key = {config::Protocol::udp, *Ip4::parse("10.0.0.53"), 53};
    udp.scheduler = config::Scheduler::rr;
    c.services.push_back(udp);

    nlohmann::json j = to_json(c);
    CHECK(j["services"][0]["real_servers"][1]["forward"] == "fullnat");
    CHECK(j["services"][1]["protocol"] == "udp");
    CHECK(j["timeouts"]["tcp_fin"] == 100);
    test::check_round_trip(c);
}

TEST_CASE("connection thresholds: 0..2147483647, the lower one not above the upper one") {
    auto with = [](const char* thresholds) {
        return config_from_json(J((std::string(R"({"services":[{"protocol":"tcp","address":"10.0.0.100","port":80,
            "scheduler":"wlc","real_servers":[{"address":"192.168.1.1",)") + thresholds + "}]}]}").c_str()));
    };
    CHECK(with(R"("upper_threshold":100,"lower_threshold":10)").ok());
    CHECK(with(R"("upper_threshold":2147483647)").ok());
    CHECK(with(R"("lower_threshold":10)").ok());  // no upper one: IPVS ignores it
    auto over = with(R"("upper_threshold":10,"lower_threshold":11)");
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().field == "config.services[0].real_servers[0].lower_threshold");
    CHECK(over.error().message == "must not be above upper_threshold (10)");
    auto big = with(R"("upper_threshold":2147483648)");
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().field == "config.services[0].real_servers[0].upper_threshold");
    CHECK(big.error().message == "must be between 0 and 2147483647");
}

TEST_CASE("config decoding applies the documented defaults") {
    auto c = config_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.100","port":80,
        "scheduler":"rr","real_servers":[{"address":"192.168.1.1"}]}]})"));
    REQUIRE(c.ok());
    CHECK(c->timeouts == config::Timeouts{900, 120, 300});
    const auto& rs = c->services[0].reals[0];
    CHECK(rs.port == 80);  // the service's port
    CHECK(rs.weight == 1);
    CHECK(rs.forward == config::ForwardMethod::nat);
    CHECK(c->services[0].local_addresses.empty());

    auto empty = config_from_json(J("{}"));
    REQUIRE(empty.ok());
    CHECK(empty->services.empty());
}

TEST_CASE("service scheduler defaults to wlc, as in ipvsadm") {
    auto s = service_from_json(J(R"({"protocol":"tcp","address":"10.0.0.100","port":80})"), "service");
    REQUIRE(s.ok());
    CHECK(s->scheduler == config::Scheduler::wlc);
    CHECK(s->sched_flags == 0);
    CHECK(s->mh_table_size == 65537);
    CHECK_FALSE(s->persistence);
    CHECK(s->timeouts.empty());
    CHECK(config_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.100","port":80}]})")).ok());
}

TEST_CASE("unknown members are errors that name the member") {
    auto top = config_from_json(J(R"({"services":[],"timeout":{}})"));
    REQUIRE_FALSE(top.ok());
    CHECK(top.error().field == "config.timeout");
    CHECK(top.error().message == "unknown member 'timeout'");

    auto deep = config_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.100","port":80,
        "scheduler":"rr","real_servers":[{"address":"192.168.1.1","wieght":3}]}]})"));
    REQUIRE_FALSE(deep.ok());
    CHECK(deep.error().field == "config.services[0].real_servers[0].wieght");

    auto key = service_key_from_json(J(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr"})"),
                                     "service");
    REQUIRE_FALSE(key.ok());
    CHECK(key.error().field == "service.scheduler");
}

TEST_CASE("wrong JSON types are errors that say what was expected") {
    struct Case {
        const char* json;
        const char* field;
        const char* message;
    };
    Case cases[] = {
        {R"([])", "config", "expected an object, got array"},
        {R"({"services":{}})", "config.services", "expected an array, got object"},
        {R"({"services":[{"protocol":6,"address":"10.0.0.1","port":80}]})", "config.services[0].protocol",
         "expected a string, got number"},
        {R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":"80"}]})", "config.services[0].port",
         "expected an integer, got string"},
        {R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80.5}]})", "config.services[0].port",
         "expected an integer, got number"},
        {R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":true}]})", "config.services[0].port",
         "expected an integer, got boolean"},
        {R"({"services":[{"protocol":"tcp","address":null,"port":80}]})", "config.services[0].address",
         "expected a string, got null"},
        {R"({"timeouts":{"tcp":-5}})", "config.timeouts.tcp", "must be between 1 and 2000000"},
        {R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
            "local_addresses":"192.168.1.1"}]})", "config.services[0].local_addresses", "expected an array, got string"},
    };
    for (const auto& c : cases) {
        INFO(c.json);
        auto r = config_from_json(J(c.json));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().field == c.field);
        CHECK(r.error().message == c.message);
    }
}

TEST_CASE("missing required members are named") {
    auto r = config_from_json(J(R"({"services":[{"protocol":"tcp","port":80}]})"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().field == "config.services[0].address");
    CHECK(r.error().message == "missing member 'address'");
}

TEST_CASE("truncated or invalid JSON text is a clear error") {
    for (const char* text : {R"({"cmd":"list")", R"({"cmd":)", "", "{\"cmd\":\"list\"}}", "nul"}) {
        INFO(text);
        auto r = parse_json(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().field.empty());
        CHECK(r.error().message.rfind("not valid JSON: ", 0) == 0);
        CHECK(r.error().message.size() > 20);  // carries the parser's reason
    }
    CHECK(parse_json(R"({"cmd":"list"})").ok());
}

TEST_CASE("describe names services and endpoints as errors print them") {
    config::ServiceKey k{config::Protocol::udp, *Ip4::parse("10.0.0.53"), 53};
    CHECK(describe(k) == "udp 10.0.0.53:53");
    CHECK(key_to_json(k) == J(R"({"protocol":"udp","address":"10.0.0.53","port":53})"));
}
