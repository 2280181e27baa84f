#include <catch2/catch.hpp>

#include "control/api/mutations.hpp"
#include "model/config_find.hpp"
#include "codec/config_json.hpp"
#include "helpers.hpp"

using namespace dplb;
using dplb::test::J;

namespace {

const char* vip = R"({"protocol":"tcp","address":"192.168.227.128","port":80})";

nlohmann::json request(const char* cmd, const std::string& members = "") {
    std::string text = std::string(R"({"cmd":")") + cmd + "\"" + (members.empty() ? "" : "," + members) + "}";
    return nlohmann::json::parse(text);
}

// Applies a request that must succeed.
config::Config ok(const config::Config& c, const nlohmann::json& rq) {
    auto r = api::apply_mutation(c, rq);
    INFO(rq.dump());
    if (!r.ok()) FAIL(r.error().str());
    return *r;
}

// Applies a request that must fail, checks the configuration is untouched, returns the error.
model::Error fails(const config::Config& c, const nlohmann::json& rq) {
    config::Config before = c;
    auto r = api::apply_mutation(c, rq);
    INFO(rq.dump());
    REQUIRE_FALSE(r.ok());
    CHECK(c == before);
    return r.error();
}

}  // namespace

TEST_CASE("add-service, edit-service, delete-service, clear") {
    config::Config c;
    c = ok(c, request("add-service", R"("service":{"protocol":"tcp","address":"192.168.227.128","port":80,
        "scheduler":"rr"})"));
    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].scheduler == config::Scheduler::rr);

    auto dup = fails(c, request("add-service", std::string(R"("service":)") + R"({"protocol":"tcp",
        "address":"192.168.227.128","port":80,"scheduler":"wrr"})"));
    CHECK(dup.field == "service");
    CHECK(dup.message == "service tcp 192.168.227.128:80 already exists");

    c = ok(c, request("edit-service", R"("service":{"protocol":"tcp","address":"192.168.227.128","port":80,
        "scheduler":"wrr"})"));
    CHECK(c.services[0].scheduler == config::Scheduler::wrr);
    // Omitting the scheduler keeps it.
    c = ok(c, request("edit-service", std::string(R"("service":)") + vip));
    CHECK(c.services[0].scheduler == config::Scheduler::wrr);
    // expire_nodest_conn: set, kept when not named, cleared.
    c = ok(c, request("edit-service", R"("service":{"protocol":"tcp","address":"192.168.227.128","port":80,
        "expire_nodest_conn":true})"));
    CHECK(c.services[0].expire_nodest_conn);
    c = ok(c, request("edit-service", std::string(R"("service":)") + vip));
    CHECK(c.services[0].expire_nodest_conn);
    c = ok(c, request("edit-service", R"("service":{"protocol":"tcp","address":"192.168.227.128","port":80,
        "expire_nodest_conn":false})"));
    CHECK_FALSE(c.services[0].expire_nodest_conn);

    auto rrr = fails(c, request("edit-service", R"("service":{"protocol":"tcp","address":"192.168.227.128","port":80,
        "scheduler":"rrr"})"));
    CHECK(rrr.field == "service.scheduler");
    auto lists = fails(c, request("edit-service", R"("service":{"protocol":"tcp","address":"192.168.227.128",
        "port":80,"real_servers":[]})"));
    CHECK(lists.field == "service.real_servers");

    auto missing = fails(c, request("delete-service", R"("service":{"protocol":"udp","address":"192.168.227.128",
        "port":80})"));
    CHECK(missing.field == "service");
    CHECK(missing.str() == "service: no service udp 192.168.227.128:80");

    c = ok(c, request("add-service", R"("service":{"protocol":"udp","address":"10.0.0.53","port":53,"scheduler":"rr"})"));
    c = ok(c, request("delete-service", std::string(R"("service":)") + vip));
    REQUIRE(c.services.size() == 1);
    CHECK(c.services[0].key.protocol == config::Protocol::udp);
    c = ok(c, request("clear"));
    CHECK(c.services.empty());
    CHECK(fails(c, request("clear", R"("service":{})")).field == "service");
}

TEST_CASE("add-service validates the whole service it carries") {
    config::Config c;
    auto e = fails(c, request("add-service", R"("service":{"protocol":"tcp","address":"10.0.0.1","port":80,
        "scheduler":"rr","real_servers":[{"address":"10.1.1.1"},{"address":"10.1.1.1"}]})"));
    CHECK(e.field == "service.real_servers[1]");
    // ipvsadm's default scheduler, and every other IPVS scheduler, are there.
    c = ok(c, request("add-service", R"("service":{"protocol":"tcp","address":"10.0.0.1","port":80})"));
    CHECK(c.services[0].scheduler == config::Scheduler::wlc);
    for (const char* s : {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}) {
        INFO(s);
        c = ok(c, request("edit-service", std::string(R"("service":{"protocol":"tcp","address":"10.0.0.1","port":80,
            "scheduler":")") + s + "\"}"));
        CHECK(config::to_string(c.services[0].scheduler) == s);
    }
}

TEST_CASE("add-real, edit-real, delete-real") {
    config::Config c = test::nat_lab();
    std::string svc = std::string(R"("service":)") + vip;
    c = ok(c, request("add-real", svc + R"(,"real_server":{"address":"192.168.253.145","forward":"nat","weight":3})"));
    const auto& reals = c.services[0].reals;
    REQUIRE(reals.size() == 3);
    CHECK(reals[2].port == 80);  // the service's port
    CHECK(reals[2].weight == 3);

    auto dup = fails(c, request("add-real", svc + R"(,"real_server":{"address":"192.168.253.145","port":80})"));
    CHECK(dup.field == "real_server");
    CHECK(dup.message == "real server 192.168.253.145:80 already exists in service tcp 192.168.227.128:80");

    // edit-real changes only what it carries.
    c = ok(c, request("edit-real", svc + R"(,"real_server":{"address":"192.168.253.145","weight":0})"));
    auto* rs = model::find_real(c.services[0], *Ip4::parse("192.168.253.145"), 80);
    REQUIRE(rs);
    CHECK(rs->weight == 0);
    CHECK(rs->forward == config::ForwardMethod::nat);
    auto nors = fails(c, request("edit-real", svc + R"(,"real_server":{"address":"192.168.253.145","port":81})"));
    CHECK(nors.message == "no real server 192.168.253.145:81 in service tcp 192.168.227.128:80");

    auto extra = fails(c, request("delete-real", svc + R"(,"real_server":{"address":"192.168.253.145","weight":1})"));
    CHECK(extra.field == "real_server.weight");
    c = ok(c, request("delete-real", svc + R"(,"real_server":{"address":"192.168.253.145"})"));
    CHECK(c.services[0].reals.size() == 2);
    auto gone = fails(c, request("delete-real", svc + R"(,"real_server":{"address":"192.168.253.145"})"));
    CHECK(gone.message == "no real server 192.168.253.145:80 in service tcp 192.168.227.128:80");
}

TEST_CASE("a real server for a missing service is an error naming the service") {
    config::Config c = test::nat_lab();
    for (const char* cmd : {"add-real", "edit-real", "delete-real"}) {
        INFO(cmd);
        auto e = fails(c, request(cmd, R"("service":{"protocol":"tcp","address":"10.9.9.9","port":443},
            "real_server":{"address":"192.168.253.143"})"));
        CHECK(e.field == "service");
        CHECK(e.message == "no service tcp 10.9.9.9:443");
    }
}

TEST_CASE("DR and TUN keep the service's port; fullnat without a local address is refused") {
    config::Config c = test::nat_lab();
    std::string svc = std::string(R"("service":)") + vip;
    config::Config d = ok(c, request("add-real", svc + R"(,"real_server":{"address":"10.1.2.1","forward":"dr"})"));
    d = ok(d, request("add-real", svc + R"(,"real_server":{"address":"10.1.2.2","forward":"tunnel","weight":3})"));
    CHECK(d.services[0].reals.back().forward == config::ForwardMethod::tunnel);
    auto dr = fails(c, request("add-real", svc + R"(,"real_server":{"address":"10.1.2.3","port":8080,"forward":"dr"})"));
    CHECK(dr.str() == "real_server.port: dr cannot change the port: the real server must use the service's port 80, "
                      "not 8080");
    // Switching a NAT server on another port to DR is refused the same way.
    d = ok(d, request("add-real", svc + R"(,"real_server":{"address":"10.1.2.4","port":8080,"forward":"nat"})"));
    auto tun = fails(d, request("edit-real", svc + R"(,"real_server":{"address":"10.1.2.4","port":8080,
        "forward":"tunnel"})"));
    CHECK(tun.field == "real_server.port");
    auto fnat = fails(c, request("add-real", svc + R"(,"real_server":{"address":"10.1.1.1","forward":"fullnat"})"));
    CHECK(fnat.field == "real_server.forward");
    auto edit = fails(c, request("edit-real", svc + R"(,"real_server":{"address":"192.168.253.143","forward":"fullnat"})"));
    CHECK(edit.field == "real_server.forward");

    c = ok(c, request("add-laddr", svc + R"(,"address":"192.168.100.200")"));
    c = ok(c, request("add-real", svc + R"(,"real_server":{"address":"10.1.1.1","forward":"fullnat"})"));
    CHECK(c.services[0].reals.back().forward == config::ForwardMethod::fullnat);
    auto last = fails(c, request("delete-laddr", svc + R"(,"address":"192.168.100.200")"));
    CHECK(last.field == "address");
}

TEST_CASE("add-laddr and delete-laddr") {
    config::Config c = test::nat_lab();
    std::string svc = std::string(R"("service":)") + vip;
    c = ok(c, request("add-laddr", svc + R"(,"address":"192.168.100.200")"));
    c = ok(c, request("add-laddr", svc + R"(,"address":"192.168.100.201")"));
    CHECK(c.services[0].local_addresses.size() == 2);
    auto dup = fails(c, request("add-laddr", svc + R"(,"address":"192.168.100.200")"));
    CHECK(dup.message == "local address 192.168.100.200 already exists in service tcp 192.168.227.128:80");
    auto bcast = fails(c, request("add-laddr", svc + R"(,"address":"255.255.255.255")"));
    CHECK(bcast.field == "address");
    auto bad = fails(c, request("add-laddr", svc + R"(,"address":"192.168.100")"));
    CHECK(bad.str() == "address: '192.168.100' is not a dotted-quad IPv4 address");
    c = ok(c, request("delete-laddr", svc + R"(,"address":"192.168.100.200")"));
    CHECK(c.services[0].local_addresses == std::vector<Ip4>{*Ip4::parse("192.168.100.201")});
    auto none = fails(c, request("delete-laddr", svc + R"(,"address":"192.168.100.200")"));
    CHECK(none.message == "no local address 192.168.100.200 in service tcp 192.168.227.128:80");
}

TEST_CASE("replace-config is all or nothing") {
    config::Config c = test::nat_lab();
    // The second service is invalid: nothing of the first may be taken either.
    auto e = fails(c, request("replace-config", R"("config":{"services":[
        {"protocol":"udp","address":"10.0.0.53","port":53,"scheduler":"rr"},
        {"protocol":"tcp","address":"10.0.0.80","port":0,"scheduler":"rr"}]})"));
    CHECK(e.field == "config.services[1].port");
    CHECK(e.message == "port 0 (all ports) is only allowed for persistent services");

    config::Config next = ok(c, request("replace-config", R"("config":{"timeouts":{"tcp":60,"tcp_fin":30,"udp":30},
        "services":[{"protocol":"udp","address":"10.0.0.53","port":53,"scheduler":"rr"}]})"));
    REQUIRE(next.services.size() == 1);
    CHECK(next.services[0].key.port == 53);
    CHECK(next.timeouts == config::Timeouts{60, 30, 30});
    CHECK(fails(c, request("replace-config")).message == "missing member 'config'");
}

TEST_CASE("set-timeouts changes any subset") {
    config::Config c;
    c = ok(c, request("set-timeouts", R"("timeouts":{"udp":60})"));
    CHECK(c.timeouts == config::Timeouts{900, 120, 60});
    auto zero = fails(c, request("set-timeouts", R"("timeouts":{"tcp":0})"));
    CHECK(zero.field == "timeouts.tcp");
    auto unknown = fails(c, request("set-timeouts", R"("timeouts":{"tcpfin":10})"));
    CHECK(unknown.field == "timeouts.tcpfin");
}

TEST_CASE("requests: unknown members, wrong types, and the id member") {
    config::Config c = test::nat_lab();
    auto extra = fails(c, request("delete-service", std::string(R"("service":)") + vip + R"(,"force":true)"));
    CHECK(extra.field == "force");
    CHECK(extra.message == "unknown member 'force'");
    auto type = fails(c, request("delete-service", R"("service":"tcp 192.168.227.128:80")"));
    CHECK(type.str() == "service: expected an object, got string");
    auto port = fails(c, request("delete-service", R"("service":{"protocol":"tcp","address":"192.168.227.128",
        "port":"80"})"));
    CHECK(port.field == "service.port");
    // An id is allowed on every request.
    auto r = api::apply_mutation(c, request("delete-service", std::string(R"("id":[1,"x"],"service":)") + vip));
    CHECK(r.ok());
    CHECK(api::is_mutation("add-real"));
    CHECK_FALSE(api::is_mutation("list"));
}
