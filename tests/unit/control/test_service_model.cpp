// The service model of issue 3 in the codec and validation: fwmark keys, port-0 services,
// persistence, scheduler flags, mh table size, per-service timeouts, port groups.
#include <catch2/catch.hpp>

#include "codec/config_json.hpp"
#include "codec/json_parse.hpp"
#include "model/sched_flags.hpp"
#include "model/validate.hpp"
#include "helpers.hpp"

using namespace dplb;
using namespace dplb::model;
using dplb::test::J;

namespace {

Error config_error(const std::string& config_json) {
    auto r = config_from_json(nlohmann::json::parse(config_json));
    INFO(config_json);
    REQUIRE_FALSE(r.ok());
    return r.error();
}

Error service_error(const std::string& service_json) { return config_error(R"({"services":[)" + service_json + "]}"); }

}  // namespace

TEST_CASE("a configuration with every new field survives JSON and text") {
    config::Config c = test::every_feature();
    nlohmann::json j = to_json(c);
    CHECK(j["port_groups"][0] == J(R"({"mark":66,"matches":[{"protocol":"tcp","address":"192.168.0.200","port":80},
        {"protocol":"tcp","address":"192.168.0.200","port":443},
        {"protocol":"udp","address":"192.168.0.200","port_range":[8000,8100]}]})"));
    const auto& fwm = j["services"][4];
    CHECK(fwm["fwmark"] == 66);
    CHECK_FALSE(fwm.contains("protocol"));
    CHECK(fwm["persistence"] == J(R"({"timeout":600,"netmask":"255.255.255.0"})"));
    CHECK(fwm["real_servers"][0]["port"] == 0);
    CHECK(j["services"][0]["sched_flags"] == J(R"(["sh-fallback","sh-port"])"));
    CHECK(j["services"][0]["timeouts"] == J(R"({"tcp":60,"udp":30})"));
    CHECK_FALSE(j["services"][0].contains("mh_table_size"));  // meaningless for sh
    CHECK(j["services"][1]["mh_table_size"] == 131071);
    CHECK(j["services"][3]["expire_nodest_conn"] == true);
    CHECK_FALSE(j["services"][0].contains("expire_nodest_conn"));  // absent: false
    test::check_round_trip(c);
}

TEST_CASE("expire_nodest_conn: a boolean, false when absent, kept by an edit that does not name it") {
    auto on = service_from_json(J(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"expire_nodest_conn":true})"),
                                "service");
    REQUIRE(on.ok());
    CHECK(on->expire_nodest_conn);
    auto off = service_from_json(J(R"({"protocol":"tcp","address":"10.0.0.1","port":80})"), "service");
    REQUIRE(off.ok());
    CHECK_FALSE(off->expire_nodest_conn);
    Error e = service_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"expire_nodest_conn":1})");
    CHECK(e.field == "config.services[0].expire_nodest_conn");
    CHECK(e.message == "expected a boolean, got number");

    config::Service svc = *on;
    const nlohmann::json rr = J(R"({"scheduler":"rr"})"), cleared = J(R"({"expire_nodest_conn":false})");
    ObjectReader r(rr, "service");  // keeps a reference: the JSON must outlive it
    AttributesGiven given;
    REQUIRE_FALSE(read_service_attributes(r, svc, &given));
    CHECK(svc.expire_nodest_conn);
    CHECK_FALSE(given.expire_nodest_conn);
    ObjectReader r2(cleared, "service");
    REQUIRE_FALSE(read_service_attributes(r2, svc, &given));
    CHECK_FALSE(svc.expire_nodest_conn);
    CHECK(given.expire_nodest_conn);
}

TEST_CASE("service keys: an address key or a fwmark key, never both") {
    auto fwm = service_key_from_json(J(R"({"fwmark":66})"), "service");
    REQUIRE(fwm.ok());
    CHECK(fwm->fwmark == 66);
    CHECK(fwm->is_fwmark());
    CHECK(describe(*fwm) == "fwmark 66");
    CHECK(key_to_json(*fwm) == J(R"({"fwmark":66})"));

    auto both = service_key_from_json(J(R"({"fwmark":66,"protocol":"tcp"})"), "service");
    REQUIRE_FALSE(both.ok());
    CHECK(both.error().field == "service.protocol");
    CHECK(both.error().message == "a fwmark service has no protocol (its port group says which packets it gets)");
    for (const char* mark : {"0", "4294967296", "-1"}) {
        auto bad = service_key_from_json(J((std::string(R"({"fwmark":)") + mark + "}").c_str()), "service");
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().field == "service.fwmark");
        CHECK(bad.error().message == "must be between 1 and 4294967295");
    }
    CHECK(service_key_from_json(J(R"({"fwmark":4294967295})"), "service").ok());

    // Built in code, a fwmark key must leave the address members alone.
    config::Config c;
    config::Service s;
    s.key.fwmark = 7;
    s.key.port = 80;
    c.services.push_back(s);
    auto e = validate_config(c);
    REQUIRE(e);
    CHECK(e->field == "config.services[0].fwmark");
}

TEST_CASE("duplicate fwmark services are refused; a mark without a port group is allowed") {
    auto dup = config_error(R"({"services":[{"fwmark":66,"scheduler":"rr"},{"fwmark":67,"scheduler":"rr"},
        {"fwmark":66,"scheduler":"wrr"}]})");
    CHECK(dup.field == "config.services[2]");
    CHECK(dup.message == "duplicate service fwmark 66 (also services[0])");
    CHECK(config_from_json(J(R"({"services":[{"fwmark":66,"scheduler":"rr"}]})")).ok());
}

TEST_CASE("port-0 services need persistence; their real servers may keep the client's port") {
    CHECK(config_from_json(J(R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":0,"scheduler":"rr",
        "persistence":{},"real_servers":[{"address":"10.1.1.1"},{"address":"10.1.1.2","port":0,"forward":"dr"},
        {"address":"10.1.1.3","port":8080,"forward":"nat"}]}]})")).ok());
    auto dr = service_error(R"({"protocol":"tcp","address":"10.0.0.1","port":0,"scheduler":"rr","persistence":{},
        "real_servers":[{"address":"10.1.1.1","port":80,"forward":"dr"}]})");
    CHECK(dr.field == "config.services[0].real_servers[0].port");
    CHECK(dr.message == "dr cannot change the port: the real server must use port 0 (the client's port), not 80");
}

TEST_CASE("persistence: timeout 1..2000000 and a contiguous netmask") {
    auto defaults = persistence_from_json(J("{}"), "p");
    REQUIRE(defaults.ok());
    CHECK(*defaults == config::Persistence{300, Ip4::from_host(0xffffffff)});
    auto svc = [](const char* persistence) {
        return std::string(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr","persistence":)") +
               persistence + "}";
    };
    CHECK(config_from_json(J(("{\"services\":[" + svc(R"({"timeout":1,"netmask":"0.0.0.0"})") + "]}").c_str())).ok());
    CHECK(config_from_json(J(("{\"services\":[" + svc(R"({"timeout":2000000,"netmask":"255.255.255.128"})") + "]}")
                                 .c_str()))
              .ok());
    auto zero = service_error(svc(R"({"timeout":0})"));
    CHECK(zero.field == "config.services[0].persistence.timeout");
    CHECK(zero.message == "must be between 1 and 2000000");
    auto mask = service_error(svc(R"({"netmask":"255.0.255.0"})"));
    CHECK(mask.field == "config.services[0].persistence.netmask");
    CHECK(mask.message == "'255.0.255.0' is not a contiguous netmask");
    auto bad = service_error(svc(R"({"netmask":"/24"})"));
    CHECK(bad.field == "config.services[0].persistence.netmask");
    auto extra = service_error(svc(R"({"granularity":24})"));
    CHECK(extra.field == "config.services[0].persistence.granularity");
    CHECK(is_contiguous_netmask(Ip4::from_host(0xffffffff)));
    CHECK(is_contiguous_netmask(Ip4::from_host(0)));
    CHECK_FALSE(is_contiguous_netmask(Ip4::from_host(0x00ffffff)));
}

TEST_CASE("scheduler flags belong to their scheduler") {
    auto flags = sched_flags_from_json(J(R"(["mh-port","mh-fallback","mh-port"])"), "f");
    REQUIRE(flags.ok());
    CHECK(*flags == (config::sched_flag_mh_port | config::sched_flag_mh_fallback));
    CHECK(sched_flags_to_json(*flags) == J(R"(["mh-fallback","mh-port"])"));
    auto unknown = sched_flags_from_json(J(R"(["sh-fallback","flag-1"])"), "service.sched_flags");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().field == "service.sched_flags[1]");
    CHECK(unknown.error().message ==
          "unknown scheduler flag 'flag-1' (expected one of: sh-fallback, sh-port, mh-fallback, mh-port)");

    auto wrong = service_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"mh",
        "sched_flags":["mh-port","sh-fallback"]})");
    CHECK(wrong.field == "config.services[0].sched_flags");
    CHECK(wrong.message == "sh-fallback only applies to the sh scheduler (scheduler is mh)");
    auto rr = service_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "sched_flags":["mh-port"]})");
    CHECK(rr.message == "mh-port only applies to the mh scheduler (scheduler is rr)");
    CHECK(sched_flags_of(config::Scheduler::sh) == (config::sched_flag_sh_fallback | config::sched_flag_sh_port));
    CHECK(sched_flags_of(config::Scheduler::wlc) == 0);
}

TEST_CASE("mh_table_size: a prime in 7..1048573, changed only for mh") {
    auto svc = [](const char* sched, const char* size) {
        return std::string(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":")") + sched +
               R"(","mh_table_size":)" + size + "}";
    };
    for (const char* ok : {"7", "65537", "1048573", "251"})
        CHECK(config_from_json(J(("{\"services\":[" + svc("mh", ok) + "]}").c_str())).ok());
    for (const char* bad : {"65536", "5", "1048583", "1"}) {
        INFO(bad);
        auto e = service_error(svc("mh", bad));
        CHECK(e.field == "config.services[0].mh_table_size");
        CHECK(e.message == std::string(bad) + " is not a prime between 7 and 1048573");
    }
    auto not_mh = service_error(svc("sh", "251"));
    CHECK(not_mh.field == "config.services[0].mh_table_size");
    CHECK(not_mh.message == "only the mh scheduler has a lookup table (scheduler is sh)");
    CHECK(config_from_json(J(("{\"services\":[" + svc("rr", "65537") + "]}").c_str())).ok());
    CHECK(is_prime(65537));
    CHECK_FALSE(is_prime(65535));
}

TEST_CASE("per-service timeouts: any subset, 1..2000000, null clears") {
    config::TimeoutOverrides base;
    base.tcp = 60;
    base.udp = 10;
    auto t = timeout_overrides_from_json(J(R"({"tcp_fin":30,"udp":null})"), "timeouts", base);
    REQUIRE(t.ok());
    CHECK(t->tcp == 60u);
    CHECK(t->tcp_fin == 30u);
    CHECK_FALSE(t->udp);
    CHECK(to_json(*t) == J(R"({"tcp":60,"tcp_fin":30})"));
    auto zero = service_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "timeouts":{"tcp":0}})");
    CHECK(zero.field == "config.services[0].timeouts.tcp");
    CHECK(zero.message == "must be between 1 and 2000000");
    auto unknown = service_error(R"({"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr",
        "timeouts":{"tcpfin":5}})");
    CHECK(unknown.field == "config.services[0].timeouts.tcpfin");
}

TEST_CASE("port groups: marks unique, matches present, ports 1..65535 in order") {
    auto group = [](const char* g) { return std::string(R"({"port_groups":[)") + g + "]}"; };
    CHECK(config_from_json(J(group(R"({"mark":1,"matches":[{"protocol":"udp","address":"10.0.0.1","port":53}]})").c_str()))
              .ok());
    struct Case {
        const char* groups;
        const char* field;
        const char* message;
    };
    Case cases[] = {
        {R"({"mark":0,"matches":[]})", "config.port_groups[0].mark", "must be between 1 and 4294967295"},
        {R"({"matches":[]})", "config.port_groups[0].mark", "missing member 'mark'"},
        {R"({"mark":66})", "config.port_groups[0].matches", "missing member 'matches'"},
        {R"({"mark":66,"matches":[]})", "config.port_groups[0].matches", "a port group needs at least one match"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port":0}]})",
         "config.port_groups[0].matches[0].port", "ports must be between 1 and 65535"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port":65536}]})",
         "config.port_groups[0].matches[0].port", "must be between 0 and 65535"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port_range":[90,80]}]})",
         "config.port_groups[0].matches[0].port_range", "the range 90-80 ends before it starts"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port_range":[80]}]})",
         "config.port_groups[0].matches[0].port_range", "expected an array [first, last]"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port":80,"port_range":[80,81]}]})",
         "config.port_groups[0].matches[0].port_range", "give either port or port_range, not both"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1"}]})", "config.port_groups[0].matches[0].port",
         "missing member 'port' (or 'port_range')"},
        {R"({"mark":66,"matches":[{"protocol":"icmp","address":"10.0.0.1","port":1}]})",
         "config.port_groups[0].matches[0].protocol", "unknown protocol 'icmp' (expected tcp or udp)"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"0.0.0.0","port":1}]})",
         "config.port_groups[0].matches[0].address", "'0.0.0.0' is not a usable unicast address (unspecified)"},
        {R"({"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port":1}]},
            {"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port":2}]})",
         "config.port_groups[1].mark", "duplicate port group mark 66 (also port_groups[0])"},
    };
    for (const auto& c : cases) {
        auto e = config_error(group(c.groups));
        CHECK(e.field == c.field);
        CHECK(e.message == c.message);
    }
}

TEST_CASE("port-group matches may not overlap each other or take an address service's packets") {
    auto overlap = config_error(R"({"port_groups":[
        {"mark":66,"matches":[{"protocol":"tcp","address":"10.0.0.1","port_range":[8000,8100]},
                              {"protocol":"udp","address":"10.0.0.1","port":8050}]},
        {"mark":67,"matches":[{"protocol":"tcp","address":"10.0.0.2","port":8050},
                              {"protocol":"tcp","address":"10.0.0.1","port_range":[8100,8200]}]}]})");
    CHECK(overlap.field == "config.port_groups[1].matches[1]");
    CHECK(overlap.message == "tcp 10.0.0.1:8100-8200 overlaps port group 66's tcp 10.0.0.1:8000-8100 "
                             "(port_groups[0].matches[0]); a packet can belong to one service only");
    // A range inside an earlier, longer one is found too (not only neighbours).
    auto inside = config_error(R"({"port_groups":[{"mark":66,"matches":[
        {"protocol":"tcp","address":"10.0.0.1","port_range":[1,1000]},
        {"protocol":"tcp","address":"10.0.0.1","port":20},
        {"protocol":"tcp","address":"10.0.0.1","port":500}]}]})");
    CHECK(inside.field == "config.port_groups[0].matches[1]");

    auto service = config_error(R"({"port_groups":[{"mark":66,"matches":[
            {"protocol":"tcp","address":"192.168.0.200","port":80},{"protocol":"tcp","address":"192.168.0.200","port":443}]}],
        "services":[{"protocol":"udp","address":"192.168.0.200","port":443,"scheduler":"rr"},
                    {"protocol":"tcp","address":"192.168.0.200","port":443,"scheduler":"rr"}]})");
    CHECK(service.field == "config.services[1]");
    CHECK(service.message == "service tcp 192.168.0.200:443 is also matched by port group 66's tcp 192.168.0.200:443 "
                             "(port_groups[0].matches[1]); a packet can belong to one service only");
    // A port-0 service takes only what nothing else takes: no conflict.
    CHECK(config_from_json(J(R"({"port_groups":[{"mark":66,"matches":[{"protocol":"tcp","address":"192.168.0.200",
        "port":80}]}],"services":[{"protocol":"tcp","address":"192.168.0.200","port":0,"scheduler":"rr",
        "persistence":{}},{"fwmark":66,"scheduler":"rr"}]})")).ok());
}
