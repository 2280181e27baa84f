// The dataplane's `counters` reply (codec/counters_text.hpp): written as text, read by SAX.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "codec/counters_text.hpp"

using namespace dplb;

namespace {

model::StatsSnapshot sample() {
    model::StatsSnapshot s;
    s.generation = 42;
    model::ServiceStats a;
    a.key = {config::Protocol::tcp, *Ip4::parse("10.0.0.1"), 80, 0};
    a.stats = {1, 2, 3, 4, 18446744073709551615ull};
    model::RealServerStats r;
    r.address = *Ip4::parse("192.168.1.1");
    r.port = 8080;
    r.stats = {5, 6, 7, 8, 9};
    r.active_conns = 10;
    r.inactive_conns = 11;
    a.reals = {r, r};
    a.reals[1].port = 8081;
    model::ServiceStats m;
    m.key = {config::Protocol::udp, Ip4{}, 0, 77};
    s.services = {a, m};
    return s;
}

}  // namespace

TEST_CASE("counters reply: text round trip, and it is JSON") {
    auto s = sample();
    std::string text = model::counters_reply_text(s);
    auto j = nlohmann::json::parse(text);
    CHECK(j["ok"] == true);
    CHECK(j["services"][0][1] == "10.0.0.1");
    CHECK(j["services"][0][9][1][1] == 8081);
    auto back = model::counters_reply_from_text(text);
    REQUIRE(back.ok());
    CHECK(*back == s);

    model::StatsSnapshot empty;
    auto e = model::counters_reply_from_text(model::counters_reply_text(empty));
    REQUIRE(e.ok());
    CHECK(e->services.empty());
}

TEST_CASE("counters reply: unknown members are skipped, bad shapes refused") {
    auto ok = model::counters_reply_from_text(
        R"({"ok":true,"extra":{"a":[1,{"b":"c"}],"d":null},"generation":3,"more":[[1,2]],"services":[]})");
    REQUIRE(ok.ok());
    CHECK(ok->generation == 3);
    auto refused = model::counters_reply_from_text(R"({"ok":false,"error":"unknown request 'counters'"})");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "dataplane refused counters: unknown request 'counters'");
    for (const char* bad : {
             R"({"ok":true,"services":[[6,"10.0.0.1",80,0,1,2,3,4,5]]})",             // no real server list
             R"({"ok":true,"services":[[6,"10.0.0.1",80,0,1,2,3,4,5,[],9]]})",        // one member too many
             R"({"ok":true,"services":[[6,"10.0.0.300",80,0,1,2,3,4,5,[]]]})",        // address
             R"({"ok":true,"services":[[1,"10.0.0.1",80,0,1,2,3,4,5,[]]]})",          // protocol
             R"({"ok":true,"services":[[6,"10.0.0.1",70000,0,1,2,3,4,5,[]]]})",       // port
             R"({"ok":true,"services":[[6,"10.0.0.1",80,0,1,2,3,4,-5,[]]]})",         // negative
             R"({"ok":true,"services":[[6,"10.0.0.1",80,0,1,2,3,4,5,[["10.0.0.2",80,1,2,3,4,5,6]]]]})",  // short real
             R"({"ok":true,"services":[{"a":1}]})",
             R"({"ok":true,"services":[[6,"10.0.0.1",80,0,1,2,3,4,5,[]]])",  // cut short
             R"([1,2])",
             R"({"services":[]})",  // no ok
         }) {
        INFO(bad);
        CHECK_FALSE(model::counters_reply_from_text(bad).ok());
    }
}

#include "common/ip4_text.hpp"

TEST_CASE("append_ip4 writes what inet_ntop writes") {
    for (const char* a : {"0.0.0.0", "255.255.255.255", "10.0.100.9", "192.168.1.10", "1.20.100.0", "99.9.199.250"}) {
        std::string out = "x";
        append_ip4(out, *Ip4::parse(a));
        CHECK(out == std::string("x") + a);
        CHECK(out.substr(1) == Ip4::parse(a)->str());
    }
}
