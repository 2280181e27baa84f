// Request handlers for port groups, per-service timeouts and the new service attributes.
#include <catch2/catch.hpp>

#include "control/api/mutations.hpp"
#include "control/api/queries.hpp"
#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "helpers.hpp"

using namespace dplb;
using dplb::test::J;

namespace {

config::Config ok(const config::Config& c, const char* rq) {
    auto r = api::apply_mutation(c, J(rq));
    INFO(rq);
    if (!r.ok()) FAIL(r.error().str());
    return *r;
}

model::Error fails(const config::Config& c, const char* rq) {
    config::Config before = c;
    auto r = api::apply_mutation(c, J(rq));
    INFO(rq);
    REQUIRE_FALSE(r.ok());
    CHECK(c == before);
    return r.error();
}

// The fwmark lab of seed 001 section 9: ports 80 and 443 of 192.168.0.200 under mark 66.
config::Config fwmark_lab() {
    config::Config c;
    c = ok(c, R"({"cmd":"add-port-group","port_group":{"mark":66,"matches":[
        {"protocol":"tcp","address":"192.168.0.200","port":80}]}})");
    c = ok(c, R"({"cmd":"add-port-group","port_group":{"mark":66,"matches":[
        {"protocol":"tcp","address":"192.168.0.200","port":443}]}})");
    c = ok(c, R"({"cmd":"add-service","service":{"fwmark":66,"scheduler":"rr"}})");
    c = ok(c, R"({"cmd":"add-real","service":{"fwmark":66},"real_server":{"address":"192.168.0.10","forward":"dr"}})");
    c = ok(c, R"({"cmd":"add-real","service":{"fwmark":66},"real_server":{"address":"192.168.0.20","forward":"dr"}})");
    return c;
}

}  // namespace

TEST_CASE("add-port-group creates a group or adds to it; the seed's fwmark lab") {
    config::Config c = fwmark_lab();
    REQUIRE(c.port_groups.size() == 1);
    CHECK(c.port_groups[0].mark == 66);
    REQUIRE(c.port_groups[0].matches.size() == 2);
    CHECK(c.port_groups[0].matches[1].first_port == 443);
    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].key.fwmark == 66);
    CHECK(c.services[0].reals[0].port == 0);  // the service's port: keep the client's
    CHECK(c.services[0].reals[1].forward == config::ForwardMethod::dr);

    auto overlap = fails(c, R"({"cmd":"add-port-group","port_group":{"mark":67,"matches":[
        {"protocol":"tcp","address":"192.168.0.200","port_range":[400,500]}]}})");
    CHECK(overlap.field == "port_group.matches[0]");
    CHECK(overlap.message == "tcp 192.168.0.200:400-500 overlaps port group 66's tcp 192.168.0.200:443 "
                             "(port_groups[0].matches[1]); a packet can belong to one service only");
    auto self = fails(c, R"({"cmd":"add-port-group","port_group":{"mark":67,"matches":[
        {"protocol":"udp","address":"192.168.0.200","port_range":[400,500]},
        {"protocol":"udp","address":"192.168.0.200","port":450}]}})");
    CHECK(self.field == "port_group.matches[1]");
    CHECK(self.message == "udp 192.168.0.200:450 overlaps port_group.matches[0] (udp 192.168.0.200:400-500)");

    c = ok(c, R"({"cmd":"add-service","service":{"protocol":"tcp","address":"192.168.0.200","port":8080,
        "scheduler":"rr"}})");
    auto takes = fails(c, R"({"cmd":"add-port-group","port_group":{"mark":67,"matches":[
        {"protocol":"tcp","address":"192.168.0.200","port_range":[8000,8100]}]}})");
    CHECK(takes.message == "tcp 192.168.0.200:8000-8100 takes the packets of service tcp 192.168.0.200:8080; "
                           "a packet can belong to one service only");
    auto svc = fails(c, R"({"cmd":"add-service","service":{"protocol":"tcp","address":"192.168.0.200","port":443,
        "scheduler":"rr"}})");
    CHECK(svc.field == "service");
    CHECK(svc.message == "service tcp 192.168.0.200:443 is also matched by port group 66's tcp 192.168.0.200:443 "
                         "(port_groups[0].matches[1]); a packet can belong to one service only");
    auto empty = fails(c, R"({"cmd":"add-port-group","port_group":{"mark":67,"matches":[]}})");
    CHECK(empty.field == "port_group.matches");
}

TEST_CASE("delete-port-group removes a group, or one match (and the group with its last)") {
    config::Config c = fwmark_lab();
    auto nomark = fails(c, R"({"cmd":"delete-port-group","mark":67})");
    CHECK(nomark.str() == "mark: no port group 67");
    auto nomatch = fails(c, R"({"cmd":"delete-port-group","mark":66,"match":{"protocol":"udp",
        "address":"192.168.0.200","port":80}})");
    CHECK(nomatch.str() == "match: port group 66 has no match udp 192.168.0.200:80");
    c = ok(c, R"({"cmd":"delete-port-group","mark":66,"match":{"protocol":"tcp","address":"192.168.0.200","port":80}})");
    REQUIRE(c.port_groups.size() == 1);
    CHECK(c.port_groups[0].matches.size() == 1);
    c = ok(c, R"({"cmd":"delete-port-group","mark":66,"match":{"protocol":"tcp","address":"192.168.0.200","port":443}})");
    CHECK(c.port_groups.empty());
    // The fwmark service stays: IPVS allows a mark nobody sets.
    CHECK(c.services.size() == 1);
    c = fwmark_lab();
    c = ok(c, R"({"cmd":"delete-port-group","mark":66})");
    CHECK(c.port_groups.empty());
    CHECK(fails(c, R"({"cmd":"delete-port-group"})").str() == "mark: missing member 'mark'");
}

TEST_CASE("clear removes services and port groups") {
    config::Config c = fwmark_lab();
    c.timeouts.udp = 5;
    c = ok(c, R"({"cmd":"clear"})");
    CHECK(c.services.empty());
    CHECK(c.port_groups.empty());
    CHECK(c.timeouts.udp == 5u);
}

TEST_CASE("get-port-groups and list carry the port groups") {
    config::Config c = fwmark_lab();
    auto all = api::get_port_groups_reply(c, std::nullopt);
    CHECK(all == J(R"({"ok":true,"port_groups":[{"mark":66,"matches":[
        {"protocol":"tcp","address":"192.168.0.200","port":80},{"protocol":"tcp","address":"192.168.0.200","port":443}]}]})"));
    CHECK(api::get_port_groups_reply(c, 67)["port_groups"].empty());
    auto list = api::list_reply(c, std::nullopt, nullptr);
    CHECK(list["port_groups"] == all["port_groups"]);
    CHECK(list["services"][0]["fwmark"] == 66);
    CHECK(list["services"][0]["real_servers"][0]["persistent_conns"] == 0);
    config::ServiceKey fwm;
    fwm.fwmark = 66;
    CHECK(api::list_reply(c, fwm, nullptr)["port_groups"].size() == 1);
}

TEST_CASE("set-timeouts with a service sets that service's overrides") {
    config::Config c = test::nat_lab();
    c = ok(c, R"({"cmd":"set-timeouts","service":{"protocol":"tcp","address":"192.168.227.128","port":80},
        "timeouts":{"tcp":60,"udp":30}})");
    CHECK(c.timeouts == config::Timeouts{});
    CHECK(c.services[0].timeouts.tcp == 60u);
    CHECK(c.services[0].timeouts.udp == 30u);
    c = ok(c, R"({"cmd":"set-timeouts","service":{"protocol":"tcp","address":"192.168.227.128","port":80},
        "timeouts":{"tcp":null,"tcp_fin":20}})");
    CHECK_FALSE(c.services[0].timeouts.tcp);
    CHECK(c.services[0].timeouts.tcp_fin == 20u);
    auto none = fails(c, R"({"cmd":"set-timeouts","service":{"fwmark":9},"timeouts":{"tcp":60}})");
    CHECK(none.str() == "service: no service fwmark 9");
    auto zero = fails(c, R"({"cmd":"set-timeouts","service":{"protocol":"tcp","address":"192.168.227.128","port":80},
        "timeouts":{"udp":0}})");
    CHECK(zero.str() == "timeouts.udp: must be between 1 and 2000000");
    auto global_null = fails(c, R"({"cmd":"set-timeouts","timeouts":{"tcp":null}})");
    CHECK(global_null.field == "timeouts.tcp");
}

TEST_CASE("add-service and edit-service carry persistence, flags and the mh table size") {
    config::Config c;
    c = ok(c, R"({"cmd":"add-service","service":{"protocol":"tcp","address":"10.0.0.1","port":0,"scheduler":"sh",
        "sched_flags":["sh-port"],"persistence":{"timeout":120}}})");
    const auto& s = c.services[0];
    CHECK(s.sched_flags == config::sched_flag_sh_port);
    REQUIRE(s.persistence);
    CHECK(s.persistence->timeout == 120);
    CHECK(s.persistence->netmask == Ip4::from_host(0xffffffff));

    // Removing persistence from a port-0 service would leave an invalid service.
    auto port0 = fails(c, R"({"cmd":"edit-service","service":{"protocol":"tcp","address":"10.0.0.1","port":0,
        "persistence":null}})");
    CHECK(port0.str() == "service.port: port 0 (all ports) is only allowed for persistent services");
    // A new scheduler drops the flags and table size the old one had.
    c = ok(c, R"({"cmd":"edit-service","service":{"protocol":"tcp","address":"10.0.0.1","port":0,"scheduler":"mh",
        "mh_table_size":251}})");
    CHECK(c.services[0].sched_flags == 0);
    CHECK(c.services[0].mh_table_size == 251);
    c = ok(c, R"({"cmd":"edit-service","service":{"protocol":"tcp","address":"10.0.0.1","port":0,"scheduler":"rr"}})");
    CHECK(c.services[0].mh_table_size == 65537);
    CHECK(c.services[0].persistence);  // omitted: kept
    auto flag = fails(c, R"({"cmd":"edit-service","service":{"protocol":"tcp","address":"10.0.0.1","port":0,
        "sched_flags":["mh-port"]}})");
    CHECK(flag.str() == "service.sched_flags: mh-port only applies to the mh scheduler (scheduler is rr)");
    auto missing = fails(c, R"({"cmd":"edit-service","service":{"fwmark":5,"scheduler":"rr"}})");
    CHECK(missing.str() == "service: no service fwmark 5");
    auto syntax = fails(c, R"({"cmd":"edit-service","service":{"fwmark":5,"persistence":{"timeout":"x"}}})");
    CHECK(syntax.field == "service.persistence.timeout");
    c = ok(c, R"({"cmd":"edit-service","service":{"protocol":"tcp","address":"10.0.0.1","port":0,
        "timeouts":{"udp":9}}})");
    CHECK(c.services[0].timeouts.udp == 9u);
}
