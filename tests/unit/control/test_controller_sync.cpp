// dplb-control and the sync daemons: start-sync-daemon / stop-sync-daemon are changes like
// any other (journaled, recovered by a restarted dplb-control, pushed to the dataplane as a
// delta), get-sync-daemons and status show them, get-config carries them.
#include <catch2/catch.hpp>

#include "controller_fixture.hpp"

using namespace dplb;
using dplb::test::J;
using dplb::test::Fixture;
using nlohmann::json;

TEST_CASE("controller: sync daemons are started, stopped, journaled and shown") {
    Fixture f;
    auto none = f.controller.handle(J(R"({"cmd":"get-sync-daemons"})"));
    CHECK(none == J(R"({"ok":true,"sync_daemons":[]})"));
    CHECK_FALSE(f.controller.handle(J(R"({"cmd":"get-config"})"))["config"].contains("sync_daemons"));

    auto start = f.controller.handle(J(R"({"cmd":"start-sync-daemon","daemon":{"state":"master","mcast_interface":"dplb0","syncid":7}})"));
    CHECK(start["ok"] == true);
    CHECK(f.controller.handle(J(R"({"cmd":"start-sync-daemon","daemon":{"state":"backup","mcast_interface":"dplb0"}})"))["ok"] == true);
    auto again = f.controller.handle(J(R"({"cmd":"start-sync-daemon","daemon":{"state":"master","mcast_interface":"eth1"}})"));
    CHECK(again["ok"] == false);
    CHECK(again["field"] == "daemon.state");
    CHECK(again["error"] == "daemon.state: a master sync daemon is already running (on dplb0, syncid 7); stop it first");
    auto unknown = f.controller.handle(J(R"({"cmd":"start-sync-daemon","daemon":{"state":"master","mcast_interface":"x"},"x":1})"));
    CHECK(unknown["field"] == "x");

    auto shown = f.controller.handle(J(R"({"cmd":"get-sync-daemons"})"));
    REQUIRE(shown["sync_daemons"].size() == 2);
    CHECK(shown["sync_daemons"][0]["syncid"] == 7);
    CHECK(f.controller.handle(J(R"({"cmd":"status"})"))["sync_daemons"] == shown["sync_daemons"]);
    CHECK(f.controller.handle(J(R"({"cmd":"get-config"})"))["config"]["sync_daemons"] == shown["sync_daemons"]);

    // A restarted dplb-control finds them (journal replay), and after a stop, without it.
    auto saved = f.recovered();
    CHECK(saved.config.config().sync_daemons == f.controller.config().sync_daemons);
    CHECK(f.controller.handle(J(R"({"cmd":"stop-sync-daemon","state":"master"})"))["ok"] == true);
    auto stopped = f.controller.handle(J(R"({"cmd":"stop-sync-daemon","state":"master"})"));
    CHECK(stopped["ok"] == false);
    CHECK(stopped["error"] == "state: no master sync daemon is running");
    saved = f.recovered();
    REQUIRE(saved.config.config().sync_daemons.size() == 1);
    CHECK(saved.config.config().sync_daemons[0].state == config::SyncState::backup);

    // In a batch like any change; -C leaves them.
    auto batch = f.controller.handle(J(R"({"cmd":"batch","requests":[{"cmd":"stop-sync-daemon","state":"backup"},
        {"cmd":"start-sync-daemon","daemon":{"state":"backup","mcast_interface":"eth3"}},{"cmd":"clear"}]})"));
    CHECK(batch["ok"] == true);
    CHECK(f.controller.config().sync_daemons.at(0).mcast_interface == "eth3");
}
