#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "codec/json_parse.hpp"
#include "common/line_channel.hpp"
#include "control/server/controller.hpp"
#include "control/state/recover.hpp"
#include "helpers.hpp"
#include "controller_fixture.hpp"

using namespace dplb;
using dplb::test::J;
using dplb::test::FakeDataplane;
using dplb::test::Fixture;
using dplb::test::CountingFileSystem;
using dplb::test::add_nat_service;
using nlohmann::json;


TEST_CASE("controller: requests while the dataplane is disconnected are accepted and persisted") {
    Fixture f;
    auto reply = f.controller.handle_line(add_nat_service);
    CHECK(reply["ok"] == true);
    CHECK(reply["dataplane"] == "disconnected");
    CHECK(f.controller.generation() == 2);
    REQUIRE(f.controller.config().services.size() == 1);
    auto saved = f.recovered();
    CHECK(saved.config.config() == f.controller.config());
    CHECK(saved.generation == 2);
    CHECK(saved.replayed == 1);
    auto list = f.controller.handle(J(R"({"cmd":"list","id":"x"})"));
    CHECK(list["dataplane"] == "disconnected");
    CHECK(list["id"] == "x");
    CHECK(list["services"][0]["stats"]["conns"] == 0);
}

TEST_CASE("controller: malformed requests get errors naming the problem") {
    Fixture f;
    CHECK(f.controller.handle_line("{\"cmd\":\"list\"")["error"].get<std::string>().rfind("not valid JSON", 0) == 0);
    CHECK(f.controller.handle_line("[]")["error"] == "a request must be a JSON object");
    auto nocmd = f.controller.handle_line(R"({"id":1})");
    CHECK(nocmd["field"] == "cmd");
    CHECK(nocmd["id"] == 1);
    CHECK(f.controller.handle_line(R"({"cmd":7})")["error"] == "cmd: expected a string, got number");
    auto unknown = f.controller.handle_line(R"({"cmd":"flush"})");
    CHECK(unknown["field"] == "cmd");
    CHECK(unknown["error"].get<std::string>().rfind("cmd: unknown command 'flush' (expected one of: add-service", 0) == 0);
    CHECK(f.controller.handle_line(R"({"cmd":"status","verbose":true})")["field"] == "verbose");
    auto nosvc = f.controller.handle_line(R"({"cmd":"list","service":{"protocol":"tcp","address":"10.0.0.1","port":80}})");
    CHECK(nosvc["error"] == "service: no service tcp 10.0.0.1:80");
    CHECK(f.controller.config().services.empty());
    CHECK(f.store.journal_bytes() == 0);
}

TEST_CASE("controller: pushes on connect and on every change; a rejection changes nothing") {
    Fixture f;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    auto rqs = dp.requests();
    REQUIRE(rqs.size() == 1);
    CHECK(rqs[0]["cmd"] == "apply");
    CHECK(rqs[0]["generation"] == 2);
    CHECK(rqs[0]["config"]["services"][0]["address"] == "192.168.227.128");

    auto reply = f.controller.handle_line(R"({"cmd":"add-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.144","forward":"nat"}})");
    CHECK(reply["ok"] == true);
    CHECK(reply["dataplane"] == "connected");
    CHECK(reply["generation"] == 3);
    rqs = dp.requests();
    REQUIRE(rqs.size() == 2);
    // A delta, not the configuration: the change against the generation the dataplane has.
    CHECK(rqs[1]["cmd"] == "apply-batch");
    CHECK(rqs[1]["base"] == 2);
    CHECK(rqs[1]["generation"] == 3);
    REQUIRE(rqs[1]["changes"].size() == 1);
    CHECK(rqs[1]["changes"][0]["op"] == "add-real");
    CHECK(rqs[1]["changes"][0]["real_server"]["address"] == "192.168.253.144");

    // The dataplane refuses: the request fails with its reason, memory and disk keep the old.
    std::size_t journal_before = f.store.journal_bytes();
    config::Config config_before = f.controller.config();
    dp.reject = true;
    reply = f.controller.handle_line(R"({"cmd":"add-laddr","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"address":"192.168.100.200"})");
    CHECK(reply["ok"] == false);
    CHECK(reply["error"] == "dataplane rejected the change: changes[0].address: no port has 192.168.100.200");
    CHECK(f.controller.config() == config_before);
    CHECK(f.controller.generation() == 3);
    CHECK(f.store.journal_bytes() == journal_before);
    CHECK(f.recovered().config.config() == config_before);

    // Counters come from the dataplane; zero makes them count from now.
    dp.reject = false;
    auto list = f.controller.handle_line(R"({"cmd":"list"})");
    CHECK(list["dataplane"] == "connected");
    CHECK(list["services"][0]["stats"]["conns"] == 12);
    CHECK(f.controller.handle_line(R"({"cmd":"zero"})")["ok"] == true);
    dp.conns = 15;
    list = f.controller.handle_line(R"({"cmd":"list"})");
    CHECK(list["services"][0]["stats"]["conns"] == 3);
    CHECK(list["services"][0]["stats"]["inpkts"] == 0);

    auto status = f.controller.handle_line(R"({"cmd":"status"})");
    CHECK(status["dataplane"] == "connected");
    CHECK(status["generation"] == 3);
    CHECK(status["dataplane_status"]["drops"]["no_service"] == 3);
    CHECK_FALSE(status["dataplane_status"].contains("ok"));
}

TEST_CASE("controller: connections are the dataplane's, filtered and cut to the limit") {
    Fixture f;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    auto off = f.controller.handle_line(R"({"cmd":"connections"})");
    CHECK(off["ok"] == false);
    CHECK(off["error"] == "the dataplane is not connected: no connection table to show");
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    auto all = f.controller.handle_line(R"({"cmd":"connections"})");
    CHECK(all["ok"] == true);
    CHECK(all["connections"].size() == 2);
    CHECK(dp.requests().back() == J(R"({"cmd":"connections","limit":100000})"));
    auto one = f.controller.handle_line(R"({"cmd":"connections","id":4,"service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80}})");
    REQUIRE(one["connections"].size() == 1);
    CHECK(one["connections"][0]["client"] == "10.9.0.1:40000");
    CHECK(one["id"] == 4);
    auto cut = f.controller.handle_line(R"({"cmd":"connections","limit":1})");
    CHECK(cut["connections"].size() == 1);
    CHECK(cut["truncated"] == true);
}

TEST_CASE("controller: rates are the dataplane's estimates; zero restarts them there") {
    Fixture f;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    dp.cps = 25;
    auto list = f.controller.handle_line(R"({"cmd":"list"})");
    CHECK(list["services"][0]["rates"]["cps"] == 25);
    CHECK(list["services"][0]["real_servers"][0]["rates"]["cps"] == 0);
    REQUIRE(f.controller.handle_line(R"({"cmd":"zero","service":{"protocol":"tcp","address":"192.168.227.128",
        "port":80}})")["ok"] == true);
    auto rqs = dp.requests();
    auto zr = std::find_if(rqs.begin(), rqs.end(), [](const json& r) { return r["cmd"] == "zero-rates"; });
    REQUIRE(zr != rqs.end());
    CHECK((*zr)["service"] == J(R"({"protocol":"tcp","address":"192.168.227.128","port":80})"));
    CHECK(f.controller.handle_line(R"({"cmd":"list"})")["services"][0]["rates"]["cps"] == 0);
    // One `stats` per list (and the zero's): nothing else pulls the counters.
    std::size_t stats = 0;
    for (const auto& r : dp.requests()) stats += r["cmd"] == "stats";
    CHECK(stats == 3);
}

TEST_CASE("controller: get-config names its generation, replace-config can require it") {
    Fixture f;
    auto got = f.controller.handle_line(R"({"cmd":"get-config"})");
    CHECK(got["generation"] == 1);
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    auto stale = f.controller.handle_line(R"({"cmd":"replace-config","if_generation":1,"config":{}})");
    CHECK(stale["ok"] == false);
    CHECK(stale["field"] == "if_generation");
    CHECK(stale["error"] == "if_generation: the configuration changed since generation 1 (it is now 2); nothing was "
                           "replaced");
    CHECK(f.controller.config().services.size() == 1);
    CHECK(f.controller.handle_line(R"({"cmd":"replace-config","if_generation":2,"config":{}})")["ok"] == true);
    CHECK(f.controller.config().services.empty());
}

TEST_CASE("controller: get-port-groups") {
    Fixture f;
    REQUIRE(f.controller.handle_line(R"({"cmd":"add-port-group","port_group":{"mark":66,"matches":[
        {"protocol":"tcp","address":"192.168.0.200","port":80}]}})")["ok"] == true);
    auto all = f.controller.handle_line(R"({"cmd":"get-port-groups"})");
    CHECK(all["port_groups"].size() == 1);
    CHECK(f.controller.handle_line(R"({"cmd":"get-port-groups","mark":66})")["port_groups"][0]["mark"] == 66);
    CHECK(f.controller.handle_line(R"({"cmd":"get-port-groups","mark":67})")["error"] == "mark: no port group 67");
}

TEST_CASE("controller: a dataplane that cannot continue from the base generation gets the whole configuration") {
    Fixture f;
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    dp.resync = true;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    auto rqs = dp.requests();
    REQUIRE(rqs.size() == 3);
    CHECK(rqs[1]["cmd"] == "apply-batch");
    CHECK(rqs[2]["cmd"] == "apply");
    CHECK(rqs[2]["generation"] == 2);
    CHECK(rqs[2]["config"]["services"].size() == 1);
}

TEST_CASE("controller: a batch request applies all of its changes or none") {
    Fixture f;
    auto bad = f.controller.handle(J(R"({"cmd":"batch","id":9,"requests":[
        {"cmd":"add-service","service":{"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr"}},
        {"cmd":"add-real","service":{"protocol":"tcp","address":"10.0.0.1","port":80},
         "real_server":{"address":"10.0.1.1","weight":70000}}]})"));
    CHECK(bad["ok"] == false);
    CHECK(bad["id"] == 9);
    CHECK(bad["field"] == "requests[1].real_server.weight");
    CHECK(f.controller.config().services.empty());
    CHECK(f.controller.generation() == 1);
    CHECK(f.store.journal_bytes() == 0);
    auto notchange = f.controller.handle(J(R"({"cmd":"batch","requests":[{"cmd":"list"}]})"));
    CHECK(notchange["field"] == "requests[0].cmd");

    auto good = f.controller.handle(J(R"({"cmd":"batch","requests":[
        {"cmd":"add-service","service":{"protocol":"tcp","address":"10.0.0.1","port":80,"scheduler":"rr"}},
        {"cmd":"add-real","service":{"protocol":"tcp","address":"10.0.0.1","port":80},
         "real_server":{"address":"10.0.1.1","weight":7}}]})"));
    CHECK(good["ok"] == true);
    CHECK(good["generation"] == 2);  // one batch, one generation
    REQUIRE(f.controller.config().services.size() == 1);
    CHECK(f.controller.config().services[0].reals.size() == 1);
    auto saved = f.recovered();
    CHECK(saved.config.config() == f.controller.config());
    CHECK(saved.replayed == 1);
}

TEST_CASE("controller: changes staged in one turn share one fsync and are answered after it") {
    Fixture f;
    REQUIRE_FALSE(f.controller.stage_line(add_nat_service));
    REQUIRE_FALSE(f.controller.stage(J(R"({"cmd":"add-real","id":"b","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.144","forward":"nat"}})")));
    CHECK(f.controller.staged() == 2);
    CHECK(f.fs.syncs == 0);  // nothing acknowledged yet
    auto replies = f.controller.complete_staged();
    REQUIRE(replies.size() == 2);
    CHECK(replies[0]["generation"] == 2);
    CHECK(replies[1]["generation"] == 3);
    CHECK(replies[1]["id"] == "b");
    CHECK(f.fs.syncs == 2);  // the journal's data, and its directory entry (created this turn)
    auto saved = f.recovered();
    CHECK(saved.config.config() == f.controller.config());
    CHECK(saved.generation == 3);

    // A later turn: one fdatasync for the journal, nothing for the directory.
    REQUIRE_FALSE(f.controller.stage(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.144","weight":4}})")));
    REQUIRE_FALSE(f.controller.stage(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.144","weight":5}})")));
    CHECK(f.controller.complete_staged().size() == 2);
    CHECK(f.fs.syncs == 3);
}

TEST_CASE("controller: when the journal cannot be made durable the turn's changes are taken back everywhere") {
    Fixture f;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    config::Config before = f.controller.config();
    f.fs.fail_syncs = true;
    REQUIRE_FALSE(f.controller.stage(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":9}})")));
    REQUIRE_FALSE(f.controller.stage(J(R"({"cmd":"delete-service","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80}})")));
    auto replies = f.controller.complete_staged();
    REQUIRE(replies.size() == 2);
    for (const auto& r : replies) {
        CHECK(r["ok"] == false);
        CHECK(r["error"].get<std::string>().find("Input/output error") != std::string::npos);
    }
    CHECK(f.controller.config() == before);
    // The dataplane ran both changes; it is given the previous configuration back, whole.
    auto rqs = dp.requests();
    REQUIRE(rqs.size() >= 4);
    CHECK(rqs.back()["cmd"] == "apply");
    CHECK(rqs.back()["config"]["services"][0]["real_servers"][0]["weight"] == 1);
    // Until the file system works again every change is refused, and nothing changes.
    auto refused = f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":8}})"));
    CHECK(refused["ok"] == false);
    CHECK(f.controller.config() == before);
    // Then the state file is rewritten without the changes that were never acknowledged,
    // and work goes on.
    f.fs.fail_syncs = false;
    auto ok = f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":3}})"));
    CHECK(ok["ok"] == true);
    config::Config expected = before;
    expected.services[0].reals[0].weight = 3;
    CHECK(f.controller.config() == expected);
    CHECK(f.recovered().config.config() == expected);
}

TEST_CASE("controller: a journal write that fails midway rejects the change and leaves the previous state loadable") {
    Fixture f;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    config::Config before = f.controller.config();
    f.fs.fail_writes = true;
    auto r = f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":9}})"));
    CHECK(r["ok"] == false);
    CHECK(r["error"].get<std::string>().find("No space left on device") != std::string::npos);
    CHECK(f.controller.config() == before);
    auto rqs = dp.requests();
    CHECK(rqs.back()["cmd"] == "apply");  // the dataplane ran the change: it gets the old configuration back
    CHECK(rqs.back()["config"]["services"][0]["real_servers"][0]["weight"] == 1);
    CHECK(f.recovered().config.config() == before);
    f.fs.fail_writes = false;
    REQUIRE(f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":2}})"))["ok"] == true);
    CHECK(f.recovered().config.config() == f.controller.config());
}

TEST_CASE("controller: a dataplane that refused a whole push gets whole pushes until it takes one") {
    Fixture f;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    FakeDataplane dp(f.dir.file("dp.sock"));
    dp.reject = true;
    f.connect();  // the whole configuration is refused: the dataplane's state is in doubt
    dp.reject = false;
    auto r = f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":6}})"));
    CHECK(r["ok"] == true);
    auto rqs = dp.requests();
    REQUIRE(rqs.size() == 2);
    CHECK(rqs[1]["cmd"] == "apply");  // not a delta against a base the dataplane may not have
    CHECK(rqs[1]["generation"] == r["generation"]);
    // Once it took one, deltas again; every generation number is new.
    auto r2 = f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":7}})"));
    CHECK(r2["ok"] == true);
    rqs = dp.requests();
    REQUIRE(rqs.size() == 3);
    CHECK(rqs[2]["cmd"] == "apply-batch");
    CHECK(rqs[2]["base"] == r["generation"]);
    CHECK(rqs[2]["generation"].get<uint64_t>() > r["generation"].get<uint64_t>());
}

TEST_CASE("controller: a failed journal write after the dataplane took the change never reuses its number") {
    Fixture f;
    REQUIRE(f.controller.handle_line(add_nat_service)["ok"] == true);
    FakeDataplane dp(f.dir.file("dp.sock"));
    f.connect();
    f.fs.fail_writes = true;
    auto r = f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":9}})"));
    CHECK(r["ok"] == false);
    f.fs.fail_writes = false;
    auto rqs = dp.requests();
    REQUIRE(rqs.size() == 3);  // apply on connect, the delta it took, the whole push taking it back
    CHECK(rqs[1]["cmd"] == "apply-batch");
    CHECK(rqs[2]["cmd"] == "apply");
    std::set<uint64_t> numbers;
    for (const auto& q : rqs) CHECK(numbers.insert(q["generation"].get<uint64_t>()).second);
    auto ok = f.controller.handle(J(R"({"cmd":"edit-real","service":{"protocol":"tcp",
        "address":"192.168.227.128","port":80},"real_server":{"address":"192.168.253.143","weight":4}})"));
    REQUIRE(ok["ok"] == true);
    rqs = dp.requests();
    CHECK(rqs.back()["cmd"] == "apply-batch");
    CHECK(rqs.back()["base"] == rqs[2]["generation"]);
    CHECK(numbers.insert(rqs.back()["generation"].get<uint64_t>()).second);
}
