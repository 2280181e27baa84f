// Rates in the dataplane's stats reply and the connection table: the codec of the dataplane's reply,
// which entries belong to which service, and the reply to the operator.
#include <catch2/catch.hpp>

#include "control/api/connections.hpp"
#include "codec/config_json.hpp"
#include "model/connections.hpp"
#include "model/stats.hpp"
#include "codec/stats_json.hpp"
#include "helpers.hpp"
#include "codec/connections_json.hpp"

using namespace dplb;
using dplb::test::J;

TEST_CASE("rates in a stats reply: encoded, decoded, absent means zero") {
    CHECK(model::to_json(model::Rates{1, 2, 3, 4, 5}) == J(R"({"cps":1,"inpps":2,"outpps":3,"inbps":4,"outbps":5})"));
    auto reply = model::stats_reply_from_json(J(R"({"ok":true,"generation":3,"services":[
        {"protocol":"tcp","address":"10.0.0.1","port":80,"rates":{"cps":7,"inpps":70},
         "real_servers":[{"address":"10.0.1.1","port":80,"rates":{"cps":3,"outbps":9}},
                         {"address":"10.0.1.2","port":80}]}]})"));
    REQUIRE(reply.ok());
    CHECK(reply->services[0].rates == model::Rates{7, 70, 0, 0, 0});
    CHECK(reply->services[0].reals[0].rates == model::Rates{3, 0, 0, 0, 9});
    CHECK(reply->services[0].reals[1].rates == model::Rates{});
    auto bad = model::stats_reply_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80,
        "rates":{"cps":-1}}]})"));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().field == "services[0].rates.cps");
    // What the dataplane encodes comes back the same.
    model::StatsSnapshot s;
    s.generation = 4;
    model::ServiceStats svc;
    svc.key = test::nat_lab().services[0].key;
    svc.rates = {1, 2, 3, 4, 5};
    model::RealServerStats rs;
    rs.address = *Ip4::parse("192.168.253.143");
    rs.port = 80;
    rs.rates = {5, 4, 3, 2, 1};
    svc.reals.push_back(rs);
    s.services.push_back(svc);
    auto back = model::stats_reply_from_json(model::stats_reply_to_json(s));
    REQUIRE(back.ok());
    CHECK(*back == s);
}

TEST_CASE("the dataplane's connections reply: decoded leniently, every member checked") {
    auto list = model::connections_reply_from_json(J(R"({"ok":true,"truncated":true,"connections":[
        {"protocol":"tcp","state":"ESTABLISHED","expires_ms":899000,"client":"10.9.0.1:40000",
         "virtual":"192.168.227.128:80","real":"192.168.253.143:80","forward":"nat","template":false,"worker":1},
        {"protocol":"ip","state":"NONE","expires_ms":300000,"client":"10.9.0.1:0","fwmark":66,
         "real":"192.168.0.10:0","forward":"dr","template":true},
        {"protocol":"udp","state":"UDP","expires_ms":5,"client":"10.9.0.2:53000","virtual":"10.0.0.53:53",
         "local":"192.168.100.200:1028","real":"10.1.1.7:53","forward":"fullnat","template":false}]})"));
    REQUIRE(list.ok());
    CHECK(list->truncated);
    REQUIRE(list->entries.size() == 3);
    const auto& tpl = list->entries[1];
    CHECK(tpl.is_template);
    CHECK(tpl.fwmark == 66);
    CHECK_FALSE(tpl.virtual_);
    CHECK(tpl.forward == config::ForwardMethod::dr);
    CHECK(list->entries[2].local == model::Endpoint{*Ip4::parse("192.168.100.200"), 1028});
    // Round trip through what a dataplane would send.
    auto again = model::connections_reply_from_json(model::connections_reply_to_json(*list));
    REQUIRE(again.ok());
    CHECK(*again == *list);

    auto bad = model::connections_reply_from_json(J(R"({"ok":true,"connections":[{"protocol":"tcp","state":"X",
        "client":"10.9.0.1","virtual":"1.2.3.4:80","real":"1.2.3.5:80"}]})"));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().str() == "connections[0].client: '10.9.0.1' is not ADDRESS:PORT");
    auto novip = model::connections_reply_from_json(J(R"({"ok":true,"connections":[{"protocol":"tcp","state":"X",
        "client":"10.9.0.1:1","real":"1.2.3.5:80"}]})"));
    REQUIRE_FALSE(novip.ok());
    CHECK(novip.error().field == "connections[0].virtual");
    CHECK(model::connections_reply_from_json(J(R"({"ok":true})"))->entries.empty());
}

TEST_CASE("connections: which entries belong to a service") {
    config::Config c = test::every_feature();
    auto entry = [](const char* proto, const char* virt, uint32_t fwmark = 0) {
        model::ConnectionEntry e;
        e.protocol = proto;
        if (virt) e.virtual_ = *model::endpoint_from_json(virt, "v");
        e.fwmark = fwmark;
        return e;
    };
    config::ServiceKey http{config::Protocol::tcp, *Ip4::parse("10.0.0.1"), 80};
    api::ServiceMatcher is_http(http, c);
    CHECK(is_http(entry("tcp", "10.0.0.1:80")));
    CHECK_FALSE(is_http(entry("udp", "10.0.0.1:80")));
    CHECK_FALSE(is_http(entry("tcp", "10.0.0.1:443")));
    CHECK(is_http(entry("ip", "10.0.0.1:80")));  // a template
    config::ServiceKey fwm;
    fwm.fwmark = 66;
    api::ServiceMatcher is_fwm(fwm, c);
    CHECK(is_fwm(entry("ip", nullptr, 66)));
    CHECK(is_fwm(entry("tcp", "192.168.0.200:443", 66)));
    CHECK_FALSE(is_fwm(entry("tcp", "192.168.0.200:443", 67)));
    // A port-0 service gets the ports the other services of its address do not have.
    config::Config two = c;
    config::Service exact;
    exact.key = {config::Protocol::tcp, *Ip4::parse("10.0.0.2"), 22};
    two.services.push_back(exact);
    api::ServiceMatcher is_any(c.services[2].key, two);
    CHECK(is_any(entry("tcp", "10.0.0.2:8080")));
    CHECK(is_any(entry("ip", "10.0.0.2:0")));
    CHECK_FALSE(is_any(entry("tcp", "10.0.0.2:22")));
    CHECK_FALSE(is_any(entry("tcp", "10.0.0.3:8080")));
}

TEST_CASE("connections request: members, what goes to the dataplane, the reply") {
    config::Config c = test::every_feature();
    auto q = api::read_connections_query(c, J(R"({"cmd":"connections","limit":2,
        "service":{"protocol":"tcp","address":"10.0.0.1","port":80}})"));
    REQUIRE(q.ok());
    CHECK(q->limit == 2);
    // The dataplane does not filter: a query for one service asks for the most.
    CHECK(api::dataplane_connections_request(*q) == J(R"({"cmd":"connections","limit":200000})"));
    auto all = api::read_connections_query(c, J(R"({"cmd":"connections"})"));
    REQUIRE(all.ok());
    CHECK(api::dataplane_connections_request(*all) == J(R"({"cmd":"connections","limit":100000})"));
    CHECK(api::read_connections_query(c, J(R"({"cmd":"connections","limit":0})")).error().str() ==
          "limit: must be between 1 and 200000");
    CHECK(api::read_connections_query(c, J(R"({"cmd":"connections","service":{"fwmark":99}})")).error().str() ==
          "service: no service fwmark 99");

    model::ConnectionList list;
    for (int port : {80, 443, 80, 80}) {
        model::ConnectionEntry e;
        e.protocol = "tcp";
        e.state = "ESTABLISHED";
        e.client = {*Ip4::parse("10.9.0.1"), uint16_t(40000 + port)};
        e.virtual_ = model::Endpoint{*Ip4::parse("10.0.0.1"), uint16_t(port)};
        e.real = {*Ip4::parse("10.1.1.1"), 8080};
        list.entries.push_back(e);
    }
    auto reply = api::connections_reply(list, c, *q);
    CHECK(reply["ok"] == true);
    CHECK(reply["truncated"] == true);  // three for port 80, limit 2
    REQUIRE(reply["connections"].size() == 2);
    CHECK(reply["connections"][0]["virtual"] == "10.0.0.1:80");
    CHECK(reply["connections"][0]["template"] == false);
    auto everything = api::connections_reply(list, c, *all);
    CHECK(everything["truncated"] == false);
    CHECK(everything["connections"].size() == 4);
}
