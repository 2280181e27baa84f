// Change JSON: every change type comes back equal from its JSON and from its text; errors
// name the member under the batch path.
#include <catch2/catch.hpp>

#include "codec/change_json.hpp"
#include "codec/json_parse.hpp"
#include "helpers.hpp"

using namespace dplb;
using namespace dplb::config;

namespace {

Ip4 ip(const char* a) { return *Ip4::parse(a); }

SyncDaemon sync_daemon() {
    SyncDaemon d;
    d.state = SyncState::backup;
    d.mcast_interface = "dplb0";
    d.syncid = 9;
    d.peers = {ip("10.9.9.2")};
    return d;
}

std::vector<model::Change> every_change() {
    Config c = test::every_feature();
    ServiceKey sh = c.services[0].key, fwm = c.services[4].key;
    RealServer r = c.services[0].reals[0];
    TimeoutOverrides t;
    t.tcp_fin = 9;
    Service edited = model::attributes_of(c.services[2]);  // persistent, port 0
    edited.timeouts.udp = 7;
    return {
        model::AddService{c.services[1]},
        model::AddService{c.services[4]},
        model::EditService{edited},
        model::EditService{model::attributes_of(c.services[1])},  // mh with its table size
        model::DeleteService{fwm},
        model::AddReal{sh, r},
        model::EditReal{sh, r},
        model::DeleteReal{sh, r.address, r.port},
        model::DeleteReal{fwm, ip("192.168.0.10"), 0},
        model::AddLocalAddress{sh, ip("192.168.100.9")},
        model::DeleteLocalAddress{sh, ip("192.168.100.9")},
        model::AddPortGroup{c.port_groups[0]},
        model::DeletePortGroup{66, std::nullopt},
        model::DeletePortGroup{66, c.port_groups[0].matches[2]},
        model::SetTimeouts{{1, 2, 3}},
        model::SetServiceTimeouts{sh, t},
        model::SetServiceTimeouts{fwm, {}},
        model::Clear{},
        model::ReplaceConfig{c},
        model::SetRealHealth{sh, r.address, r.port, RealHealth::inhibited, std::nullopt},
        model::SetRealHealth{sh, r.address, r.port, RealHealth::up, 4},
        model::SetSorryActive{sh, true},
        model::StartSyncDaemon{sync_daemon()},
        model::StopSyncDaemon{SyncState::backup},
    };
}

}  // namespace

TEST_CASE("change JSON round trip, every change type") {
    auto changes = every_change();
    for (std::size_t i = 0; i < changes.size(); ++i) {
        nlohmann::json j = model::to_json(changes[i]);
        INFO(j.dump());
        CHECK(j["op"] == model::op_name(changes[i]));
        CHECK_FALSE(j.contains("cmd"));
        auto back = model::change_from_json(j, "change");
        if (!back) FAIL(back.error().str());
        CHECK(back->index() == changes[i].index());
        CHECK(model::to_json(*back) == j);
        auto text = model::parse_json(model::dump_line(j));
        REQUIRE(text.ok());
        auto again = model::change_from_json(*text, "change");
        REQUIRE(again.ok());
        CHECK(model::to_json(*again) == j);
    }
    // Every alternative of the variant is covered.
    std::vector<bool> seen(std::variant_size_v<model::Change>);
    for (const auto& c : changes) seen[c.index()] = true;
    CHECK(std::count(seen.begin(), seen.end(), false) == 0);

    model::Batch batch{changes};
    auto back = model::batch_from_json(model::to_json(batch));
    REQUIRE(back.ok());
    CHECK(model::to_json(*back) == model::to_json(batch));
}

TEST_CASE("change JSON values decode exactly") {
    // to_json equality above is exact for these types; spot-check values through operator==.
    Config c = test::every_feature();
    auto add = model::change_from_json(model::to_json(model::Change{model::AddService{c.services[0]}}), "c");
    REQUIRE(add.ok());
    CHECK(std::get<model::AddService>(*add).service == c.services[0]);
    Service edited = model::attributes_of(c.services[1]);
    auto edit = model::change_from_json(model::to_json(model::Change{model::EditService{edited}}), "c");
    REQUIRE(edit.ok());
    CHECK(std::get<model::EditService>(*edit).service == edited);
    auto replace = model::change_from_json(model::to_json(model::Change{model::ReplaceConfig{c}}), "c");
    REQUIRE(replace.ok());
    CHECK(std::get<model::ReplaceConfig>(*replace).config == c);
}

TEST_CASE("change JSON errors name the member") {
    auto j = nlohmann::json::parse(
        R"([{"op":"clear"},{"op":"add-real","service":{"protocol":"tcp","address":"10.0.0.1","port":80},
            "real_server":{"address":"10.1.1.1","weight":70000}}])");
    auto b = model::batch_from_json(j);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().field == "changes[1].real_server.weight");
    auto e = model::change_from_json(nlohmann::json::parse(R"({"op":"clear","x":1})"), "changes[0]");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field == "changes[0].x");
    e = model::change_from_json(nlohmann::json::parse(R"({"op":"bogus"})"), "c");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().field == "c.op");
    e = model::change_from_json(nlohmann::json::parse(R"({"cmd":"clear"})"), "c");
    REQUIRE_FALSE(e.ok());
}
