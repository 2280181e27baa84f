// The controller's health path: a keepalived.conf loaded as a diff, checker decisions pushed
// to the dataplane as runtime changes that never reach the journal, reloads that keep
// health, passive failures from the dataplane.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include "control/server/health_driver.hpp"
#include "controller_fixture.hpp"

using namespace dplb;
using dplb::test::FakeDataplane;
using dplb::test::Fixture;
using nlohmann::json;

namespace {

// Results by target "a.b.c.d:port", given at once.
struct Script {
    std::map<std::string, bool> up;
};

class ScriptedProbe : public health::Probe {
public:
    ScriptedProbe(Script& s, health::ProbeTarget t) : script_(s), target_(t) {}
    std::optional<health::ProbeResult> start() override {
        auto key = target_.address.str() + ":" + std::to_string(target_.port);
        bool up = script_.up.count(key) ? script_.up[key] : true;
        return health::ProbeResult{up, up ? "" : "connect: Connection refused", std::nullopt};
    }
    std::optional<health::ProbeResult> on_event(uint32_t) override { return std::nullopt; }
    health::ProbeResult on_timeout() override { return {false, "timeout", std::nullopt}; }
    int fd() const override { return -1; }
    uint32_t events() const override { return 0; }

private:
    Script& script_;
    health::ProbeTarget target_;
};

struct HealthFixture : Fixture {
    Script script;
    health::Clock::time_point now = health::Clock::now();
    std::unique_ptr<server::HealthDriver> driver;

    explicit HealthFixture(double passive = 0) {
        health::EngineOptions o;
        o.now = [this] { return now; };
        o.make_probe = [this](const keepalived::CheckerSpec&, const health::ProbeTarget& t) {
            return std::make_unique<ScriptedProbe>(script, t);
        };
        o.attempt_timeout = [](const keepalived::CheckerSpec& s, double) { return s.connect_timeout; };
        o.run_script = [](const std::string&) {};
        o.seed = 7;
        driver = std::make_unique<server::HealthDriver>(std::move(o), passive, [this](std::string_view l) {
            log.emplace_back(l);
        });
        controller.set_health(driver.get());
    }

    std::string write_conf(const std::string& text) {
        auto path = dir.file("keepalived.conf");
        std::ofstream(path) << text;
        return path;
    }
    // Lets `seconds` pass in steps, the checks running as the event loop would run them.
    void run_for(double seconds) {
        for (double t = 0; t < seconds; t += 0.25) {
            now += std::chrono::milliseconds(250);
            driver->engine().run_due();
            controller.apply_health();
        }
    }
    const config::RealServer& real(const char* address) {
        for (const auto& r : controller.config().services.at(0).reals)
            if (r.address == *Ip4::parse(address)) return r;
        FAIL("no real server " << address);
        throw;
    }
    std::vector<json> pushed_changes(FakeDataplane& dp) {
        std::vector<json> out;
        for (const auto& rq : dp.requests())
            if (rq["cmd"] == "apply-batch")
                for (const auto& c : rq["changes"]) out.push_back(c);
        return out;
    }
};

const char* two_reals = R"(
virtual_server 192.168.227.128 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.168.253.143 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
    real_server 192.168.253.144 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
}
)";

}  // namespace

TEST_CASE("controller health: a keepalived.conf is loaded, a failed checker takes its server out, not durably") {
    HealthFixture f;
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    auto reply = f.controller.load_keepalived(f.write_conf(two_reals));
    REQUIRE(reply["ok"] == true);
    CHECK(reply["changes"] == 1);  // one add-service
    REQUIRE(f.controller.config().services.size() == 1);
    f.run_for(3);
    CHECK(f.real("192.168.253.144").health == config::RealHealth::up);
    CHECK(f.pushed_changes(dp).size() == 1);  // the add-service only

    f.script.up["192.168.253.144:80"] = false;
    f.run_for(3);
    CHECK(f.real("192.168.253.144").health == config::RealHealth::removed);
    CHECK(f.real("192.168.253.143").health == config::RealHealth::up);
    auto pushed = f.pushed_changes(dp);
    REQUIRE(pushed.size() == 2);
    CHECK(pushed[1]["op"] == "set-real-health");
    CHECK(pushed[1]["health"] == "removed");
    CHECK(pushed[1]["real_server"]["address"] == "192.168.253.144");

    // The journal has the operator's table, not the checks' verdict.
    auto saved = f.recovered();
    REQUIRE(saved.config.config().services.size() == 1);
    for (const auto& r : saved.config.config().services[0].reals) CHECK(r.health == config::RealHealth::up);

    auto health = f.controller.handle(json{{"cmd", "health"}});
    REQUIRE(health["ok"] == true);
    const auto& reals = health["services"][0]["reals"];
    REQUIRE(reals.size() == 2);
    CHECK(reals[1]["state"] == "removed");
    CHECK(reals[1]["checkers"][0]["type"] == "TCP_CHECK");
    CHECK(reals[1]["checkers"][0]["last_failure"] == "connect: Connection refused");

    f.script.up["192.168.253.144:80"] = true;
    f.run_for(3);
    CHECK(f.real("192.168.253.144").health == config::RealHealth::up);
}

TEST_CASE("controller health: a reload applies only the difference and keeps health") {
    HealthFixture f;
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    auto path = f.write_conf(two_reals);
    REQUIRE(f.controller.load_keepalived(path)["ok"] == true);
    f.script.up["192.168.253.144:80"] = false;
    f.run_for(3);
    REQUIRE(f.real("192.168.253.144").health == config::RealHealth::removed);
    const auto before = f.pushed_changes(dp).size();

    std::string changed = two_reals;
    changed.replace(changed.find("weight 1"), 8, "weight 3");
    f.write_conf(changed);
    auto reply = f.controller.load_keepalived(path);
    REQUIRE(reply["ok"] == true);
    CHECK(reply["changes"] == 1);
    auto pushed = f.pushed_changes(dp);
    REQUIRE(pushed.size() == before + 1);
    CHECK(pushed.back()["op"] == "edit-real");
    CHECK(f.real("192.168.253.143").weight == 3);
    CHECK(f.real("192.168.253.144").health == config::RealHealth::removed);  // still down

    // The same file again: nothing to do.
    CHECK(f.controller.load_keepalived(path)["changes"] == 0);
}

TEST_CASE("controller health: a file that is not valid changes nothing") {
    HealthFixture f;
    auto path = f.write_conf(two_reals);
    REQUIRE(f.controller.load_keepalived(path)["ok"] == true);
    auto before = f.controller.config();
    const auto generation = f.controller.generation();
    f.write_conf(std::string(two_reals) + "\nvirtual_server 10.0.0.1 80 {\n    lb_algo nope\n}\n");
    auto reply = f.controller.load_keepalived(path);
    CHECK(reply["ok"] == false);
    CHECK(reply["error"].get<std::string>().find("keepalived.conf:") != std::string::npos);
    CHECK(f.controller.config() == before);
    CHECK(f.controller.generation() == generation);
    auto missing = f.controller.handle(json{{"cmd", "load-keepalived"}, {"path", f.dir.file("none.conf")}});
    CHECK(missing["ok"] == false);
    CHECK(f.controller.config() == before);
}

TEST_CASE("controller health: alpha servers start out of the table") {
    HealthFixture f;
    std::string conf = two_reals;
    conf.replace(conf.find("delay_loop 1"), 12, "delay_loop 1\n    alpha");
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    REQUIRE(f.controller.load_keepalived(f.write_conf(conf))["ok"] == true);
    // Already in the add-service that reached the dataplane: no instant with traffic to them.
    auto pushed = f.pushed_changes(dp);
    REQUIRE(!pushed.empty());
    for (const auto& r : pushed[0]["service"]["real_servers"]) CHECK(r["health"] == "removed");
    f.run_for(3);
    CHECK(f.real("192.168.253.143").health == config::RealHealth::up);
    CHECK(f.real("192.168.253.144").health == config::RealHealth::up);
}

TEST_CASE("controller health: passive failures reported by the dataplane take a server out for a while") {
    HealthFixture f(2.0);
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    REQUIRE(f.controller.handle_line(R"({"cmd":"add-service","service":{"protocol":"tcp","address":"192.168.227.128",
        "port":80,"scheduler":"rr","real_servers":[{"address":"192.168.253.143","forward":"nat"},
        {"address":"192.168.253.144","forward":"nat"}]}})")["ok"] == true);
    auto counts = [&](uint64_t rs1, uint64_t rs2) {
        json reals = json::array();
        auto one = [&](const char* a, uint64_t n) {
            if (n) reals.push_back({{"service", {{"protocol", "tcp"}, {"address", "192.168.227.128"}, {"port", 80}}},
                                    {"address", a}, {"port", 80}, {"syn_timeouts", n}, {"resets", 0}});
        };
        one("192.168.253.143", rs1);
        one("192.168.253.144", rs2);
        dp.set_passive(reals);
    };
    auto poll = [&] {
        f.controller.poll_passive();
        f.run_for(0.25);
    };
    // What the dataplane counted before this dplb-control listened is history.
    counts(5, 0);
    poll();
    CHECK(f.real("192.168.253.143").health == config::RealHealth::up);
    counts(6, 0);
    poll();
    CHECK(f.real("192.168.253.143").health == config::RealHealth::removed);
    poll();  // the same count again: nothing new
    CHECK(f.real("192.168.253.143").health == config::RealHealth::removed);
    // RS2 fails too, but it is the last server up: kept.
    counts(6, 1);
    poll();
    CHECK(f.real("192.168.253.144").health == config::RealHealth::up);
    f.run_for(2.5);
    CHECK(f.real("192.168.253.143").health == config::RealHealth::up);
}

TEST_CASE("controller health: a server a request brings back while its checker holds it down stays out") {
    HealthFixture f;
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    REQUIRE(f.controller.load_keepalived(f.write_conf(two_reals))["ok"] == true);
    f.script.up["192.168.253.144:80"] = false;
    f.run_for(3);
    REQUIRE(f.real("192.168.253.144").health == config::RealHealth::removed);
    const char* svc = R"("service":{"protocol":"tcp","address":"192.168.227.128","port":80})";
    REQUIRE(f.controller.handle_line(std::string(R"({"cmd":"delete-real",)") + svc +
                                     R"(,"real_server":{"address":"192.168.253.144","port":80}})")["ok"] == true);
    REQUIRE(f.controller.handle_line(std::string(R"({"cmd":"add-real",)") + svc +
                                     R"(,"real_server":{"address":"192.168.253.144","port":80,"forward":"nat"}})")["ok"] ==
            true);
    CHECK(f.real("192.168.253.144").health == config::RealHealth::up);  // as the request made it
    f.controller.apply_health();  // the next turn: the checker's verdict again
    CHECK(f.real("192.168.253.144").health == config::RealHealth::removed);
}

TEST_CASE("controller health: a flip does not move the table's generation (if_generation still holds)") {
    HealthFixture f;
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    REQUIRE(f.controller.load_keepalived(f.write_conf(two_reals))["ok"] == true);
    auto got = f.controller.handle(json{{"cmd", "get-config"}});
    f.script.up["192.168.253.144:80"] = false;
    f.run_for(3);
    REQUIRE(f.real("192.168.253.144").health == config::RealHealth::removed);
    json replace{{"cmd", "replace-config"}, {"config", got["config"]}, {"if_generation", got["generation"]}};
    auto reply = f.controller.handle(replace);
    CHECK(reply["ok"] == true);
    INFO(reply.dump());
    CHECK(f.real("192.168.253.144").health == config::RealHealth::removed);  // kept by replace-config
}

TEST_CASE("controller health: a file others could write, or not readable by all, is refused") {
    HealthFixture f;
    auto path = f.write_conf(two_reals);
    std::filesystem::permissions(path, std::filesystem::perms::others_write, std::filesystem::perm_options::add);
    auto reply = f.controller.load_keepalived(path);
    CHECK(reply["ok"] == false);
    CHECK(reply["error"].get<std::string>().find("writable by group or others") != std::string::npos);
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    reply = f.controller.load_keepalived(path);
    CHECK(reply["ok"] == false);
    CHECK(reply["error"].get<std::string>().find("not readable by everybody") != std::string::npos);
    CHECK(f.controller.config().services.empty());
}

TEST_CASE("controller health: a dataplane that refuses passive-failures is logged once per connection") {
    HealthFixture f(2.0);
    FakeDataplane dp(f.dir.file("dp.sock"));
    dp.refuse_passive = true;
    f.connect();
    for (int i = 0; i < 3; ++i) f.controller.poll_passive();
    auto said = [&] {
        return std::count_if(f.log.begin(), f.log.end(),
                             [](const std::string& l) { return l.find("event=passive_checks_inactive") != std::string::npos; });
    };
    CHECK(said() == 1);
    dp.refuse_passive = false;
    f.controller.poll_passive();
    dp.refuse_passive = true;
    f.controller.poll_passive();
    CHECK(said() == 2);  // refused again after it had worked
}
