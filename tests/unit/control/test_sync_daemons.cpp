// The sync daemons in the configuration (issue 12): JSON codec, validation, the
// start-sync-daemon / stop-sync-daemon changes in the editor, and diff_config.
#include <catch2/catch.hpp>

#include "codec/change_json.hpp"
#include "codec/config_json.hpp"
#include "model/config_diff.hpp"
#include "model/config_editor.hpp"
#include "model/validate.hpp"
#include "sync/message_encoder.hpp"
#include "helpers.hpp"

using namespace dplb;
using namespace dplb::model;
using dplb::test::J;

// A configuration may not ask for datagrams the encoder would have to enlarge.
static_assert(min_sync_maxlen >= sync::min_max_payload);
static_assert(max_sync_maxlen == 65507);

namespace {

Error decode_error(const std::string& daemons) {
    auto r = config_from_json(nlohmann::json::parse(R"({"sync_daemons":)" + daemons + "}"));
    REQUIRE_FALSE(r.ok());
    return r.error();
}

// An error expected for `daemons` (the text of config.sync_daemons).
struct Case {
    const char* daemons;
    const char* field;
    const char* message;
};

void check_cases(std::initializer_list<Case> cases) {
    for (const auto& c : cases) {
        INFO(c.daemons);
        auto e = decode_error(c.daemons);
        CHECK(e.field == c.field);
        CHECK_THAT(e.message, Catch::Contains(c.message));
    }
}

config::SyncDaemon daemon(config::SyncState state, const char* ifname = "dplb0") {
    config::SyncDaemon d;
    d.state = state;
    d.mcast_interface = ifname;
    return d;
}

}  // namespace

TEST_CASE("sync daemons: JSON round trip keeps every field; absent when there are none") {
    config::Config c = test::nat_lab();
    CHECK_FALSE(to_json(c).contains("sync_daemons"));  // old state files and get-config unchanged
    auto master = daemon(config::SyncState::master, "eth0");
    master.syncid = 7;
    master.sync_maxlen = 9000 - 28;
    master.mcast_group = *Ip4::parse("239.1.2.3");
    master.mcast_port = 9999;
    master.mcast_ttl = 3;
    master.peers = {*Ip4::parse("192.168.7.2"), *Ip4::parse("192.168.7.3")};
    c.sync_daemons = {master, daemon(config::SyncState::backup)};
    nlohmann::json j = to_json(c);
    CHECK(j["sync_daemons"][0] == J(R"({"state":"master","mcast_interface":"eth0","syncid":7,"sync_maxlen":8972,
        "mcast_group":"239.1.2.3","mcast_port":9999,"mcast_ttl":3,"peers":["192.168.7.2","192.168.7.3"]})"));
    CHECK(j["sync_daemons"][1] == J(R"({"state":"backup","mcast_interface":"dplb0","syncid":0,"sync_maxlen":1472,
        "mcast_group":"224.0.0.81","mcast_port":8848,"mcast_ttl":1,"peers":[]})"));
    test::check_round_trip(c);
}

TEST_CASE("sync daemons: only state and mcast_interface are required; the rest default as ipvsadm") {
    auto c = config_from_json(J(R"({"sync_daemons":[{"state":"backup","mcast_interface":"eth1"}]})"));
    REQUIRE(c.ok());
    REQUIRE(c->sync_daemons.size() == 1);
    const auto& d = c->sync_daemons[0];
    CHECK(d == daemon(config::SyncState::backup, "eth1"));
    CHECK(d.syncid == 0);
    CHECK(d.sync_maxlen == 1472);
    CHECK(d.mcast_group.str() == "224.0.0.81");
    CHECK(d.mcast_port == 8848);
    CHECK(d.mcast_ttl == 1);
    CHECK(d.peers.empty());
}

TEST_CASE("sync daemons: decoding errors name the member") {
    check_cases({
        {"1", "config.sync_daemons", "expected an array, got number"},
        {R"([{"mcast_interface":"eth0"}])", "config.sync_daemons[0].state", "missing member 'state'"},
        {R"([{"state":"slave","mcast_interface":"eth0"}])", "config.sync_daemons[0].state",
         "unknown sync daemon state 'slave' (expected master or backup)"},
        {R"([{"state":"master"}])", "config.sync_daemons[0].mcast_interface", "missing member 'mcast_interface'"},
        {R"([{"state":"master","mcast_interface":"eth0","syncid":256}])", "config.sync_daemons[0].syncid",
         "must be between 0 and 255"},
        {R"([{"state":"master","mcast_interface":"eth0","mcast_ttl":-1}])", "config.sync_daemons[0].mcast_ttl",
         "must be between 0 and 255"},
        {R"([{"state":"master","mcast_interface":"eth0","mcast_group":"224.0.0"}])",
         "config.sync_daemons[0].mcast_group", "'224.0.0' is not a dotted-quad IPv4 address"},
        {R"([{"state":"master","mcast_interface":"eth0","peers":"10.0.0.2"}])", "config.sync_daemons[0].peers",
         "expected an array, got string"},
        {R"([{"state":"master","mcast_interface":"eth0","peers":["10.0.0.2",3]}])",
         "config.sync_daemons[0].peers[1]", "expected a string, got number"},
        {R"([{"state":"master","mcast_interface":"eth0","interface":"eth1"}])", "config.sync_daemons[0].interface",
         "unknown member"},
    });
}

TEST_CASE("sync daemons: validation names the member at fault") {
    check_cases({
        {R"([{"state":"master","mcast_interface":""}])", "config.sync_daemons[0].mcast_interface",
         "an interface name is required"},
        {R"([{"state":"master","mcast_interface":"a23456789012345b"}])", "config.sync_daemons[0].mcast_interface",
         "interface name 'a23456789012345b' is longer than 15 characters"},
        {R"([{"state":"master","mcast_interface":"eth0:1"}])", "config.sync_daemons[0].mcast_interface",
         "contains a character the kernel refuses"},
        {R"([{"state":"master","mcast_interface":"eth 0"}])", "config.sync_daemons[0].mcast_interface",
         "contains a character the kernel refuses"},
        {R"([{"state":"master","mcast_interface":".."}])", "config.sync_daemons[0].mcast_interface",
         "'..' is not a valid interface name"},
        {R"([{"state":"master","mcast_interface":"eth0","sync_maxlen":127}])", "config.sync_daemons[0].sync_maxlen",
         "must be between 128 and 65507 (got 127)"},
        {R"([{"state":"master","mcast_interface":"eth0","sync_maxlen":65508}])", "config.sync_daemons[0].sync_maxlen",
         "must be between 128 and 65507 (got 65508)"},
        {R"([{"state":"master","mcast_interface":"eth0","mcast_group":"10.0.0.1"}])",
         "config.sync_daemons[0].mcast_group", "'10.0.0.1' is not a multicast address (224.0.0.0/4)"},
        {R"([{"state":"master","mcast_interface":"eth0","mcast_port":0}])", "config.sync_daemons[0].mcast_port",
         "must be between 1 and 65535"},
        {R"([{"state":"master","mcast_interface":"eth0","mcast_ttl":0}])", "config.sync_daemons[0].mcast_ttl",
         "must be between 1 and 255"},
        {R"([{"state":"master","mcast_interface":"eth0","peers":["224.0.0.81"]}])", "config.sync_daemons[0].peers[0]",
         "'224.0.0.81' is not a usable unicast address (multicast)"},
        {R"([{"state":"master","mcast_interface":"eth0","peers":["0.0.0.0"]}])", "config.sync_daemons[0].peers[0]",
         "(unspecified)"},
        {R"([{"state":"master","mcast_interface":"eth0","peers":["10.0.0.2","10.0.0.2"]}])",
         "config.sync_daemons[0].peers[1]", "peer 10.0.0.2 is listed twice"},
    });
}

TEST_CASE("sync daemons: at most one master and one backup") {
    auto e = decode_error(R"([{"state":"backup","mcast_interface":"eth0"},{"state":"master","mcast_interface":"eth0"},
        {"state":"backup","mcast_interface":"eth1"}])");
    CHECK(e.field == "config.sync_daemons[2].state");
    CHECK(e.message == "a backup sync daemon is already configured (config.sync_daemons[0]); a node runs at most "
                       "one master and one backup");
    // The limits themselves are accepted.
    config::Config c;
    auto edge = daemon(config::SyncState::master, "a23456789012345");
    edge.sync_maxlen = min_sync_maxlen;
    edge.syncid = 255;
    edge.mcast_ttl = 255;
    edge.mcast_port = 65535;
    edge.mcast_group = *Ip4::parse("239.255.255.255");
    auto other = daemon(config::SyncState::backup);
    other.sync_maxlen = max_sync_maxlen;
    c.sync_daemons = {edge, other};
    CHECK_FALSE(validate_config(c));
    test::check_round_trip(c);
    // validate_config checks code-built daemons as well.
    c.sync_daemons[1].state = config::SyncState::master;
    auto dup = validate_config(c);
    REQUIRE(dup);
    CHECK(dup->field == "config.sync_daemons[1].state");
}

TEST_CASE("sync daemons: a unicast master and backup need different ports") {
    // Both sockets would bind 0.0.0.0:8848 and each datagram would reach one of them only.
    auto e = decode_error(R"([{"state":"master","mcast_interface":"eth0","peers":["10.0.0.2"]},
        {"state":"backup","mcast_interface":"eth0","peers":["10.0.0.2"]}])");
    CHECK(e.field == "config.sync_daemons[1].mcast_port");
    CHECK(e.message == "a master and a backup daemon with unicast peers need different mcast_port values (both 8848)");
    // Different ports, or one of them multicast (bound to the group): accepted.
    config::Config c;
    auto master = daemon(config::SyncState::master);
    master.peers = {*Ip4::parse("10.0.0.2")};
    auto backup = daemon(config::SyncState::backup);
    backup.peers = {*Ip4::parse("10.0.0.2")};
    backup.mcast_port = 8849;
    c.sync_daemons = {master, backup};
    CHECK_FALSE(validate_config(c));
    c.sync_daemons[1].peers.clear();
    c.sync_daemons[1].mcast_port = master.mcast_port;
    CHECK_FALSE(validate_config(c));
    // The same refusal for a daemon started beside the other (dplbadm --start-daemon).
    ConfigEditor ed(test::nat_lab());
    REQUIRE_FALSE(ed.apply(StartSyncDaemon{master}));
    backup.mcast_port = master.mcast_port;
    auto started = ed.apply(StartSyncDaemon{backup}, "changes[0]");
    REQUIRE(started);
    CHECK(started->field == "changes[0].daemon.mcast_port");
    CHECK(ed.config().sync_daemons.size() == 1);
    backup.mcast_port = 8849;
    CHECK_FALSE(ed.apply(StartSyncDaemon{backup}));
}

TEST_CASE("sync daemons: start and stop as changes, refused as IPVS refuses them") {
    ConfigEditor ed(test::nat_lab());
    const config::Config lab = ed.config();
    auto master = daemon(config::SyncState::master, "eth0");
    master.syncid = 3;
    REQUIRE_FALSE(ed.apply(StartSyncDaemon{master}));
    // A second master is refused (IPVS: EEXIST, "Daemon has already run"), whatever its settings.
    auto other = daemon(config::SyncState::master, "eth1");
    auto e = ed.apply(StartSyncDaemon{other}, "changes[0]");
    REQUIRE(e);
    CHECK(e->field == "changes[0].daemon.state");
    CHECK(e->message == "a master sync daemon is already running (on eth0, syncid 3); stop it first");
    // A backup beside it is fine: dplb runs both at once (docs/ha.md).
    REQUIRE_FALSE(ed.apply(StartSyncDaemon{daemon(config::SyncState::backup)}));
    CHECK(ed.config().sync_daemons.size() == 2);
    CHECK(ed.config().services == lab.services);  // nothing else moves
    // Invalid settings are refused with the member's path under "daemon".
    auto bad = daemon(config::SyncState::backup, "");
    e = ed.apply(StartSyncDaemon{bad});
    REQUIRE(e);
    CHECK(e->field == "daemon.mcast_interface");

    REQUIRE_FALSE(ed.apply(StopSyncDaemon{config::SyncState::master}));
    REQUIRE(ed.config().sync_daemons.size() == 1);
    CHECK(ed.config().sync_daemons[0].state == config::SyncState::backup);
    // Stopping what does not run is refused (IPVS: ESRCH, "No daemon is running").
    e = ed.apply(StopSyncDaemon{config::SyncState::master});
    REQUIRE(e);
    CHECK(e->field == "state");
    CHECK(e->message == "no master sync daemon is running");

    // Rollback restores the list exactly, order included.
    ed.commit();
    auto before = ed.config().sync_daemons;
    REQUIRE_FALSE(ed.apply(StartSyncDaemon{master}));
    REQUIRE_FALSE(ed.apply(StopSyncDaemon{config::SyncState::backup}));
    REQUIRE_FALSE(ed.apply(StartSyncDaemon{daemon(config::SyncState::backup, "eth9")}));
    ed.rollback();
    CHECK(ed.config().sync_daemons == before);

    // A batch that stops and starts a daemon changes its settings in one step.
    Batch change_settings{{StopSyncDaemon{config::SyncState::backup}, StartSyncDaemon{daemon(config::SyncState::backup, "eth7")}}};
    REQUIRE_FALSE(ed.apply_batch(change_settings));
    CHECK(ed.config().sync_daemons[0].mcast_interface == "eth7");
}

TEST_CASE("sync daemons: ipvsadm -C keeps them, replace-config sets them") {
    config::Config c = test::nat_lab();
    c.sync_daemons = {daemon(config::SyncState::master), daemon(config::SyncState::backup)};
    ConfigEditor ed(c);
    REQUIRE_FALSE(ed.apply(Clear{}));
    CHECK(ed.config().services.empty());
    CHECK(ed.config().sync_daemons == c.sync_daemons);
    config::Config next = test::nat_lab();
    REQUIRE_FALSE(ed.apply(ReplaceConfig{next}));
    CHECK(ed.config().sync_daemons.empty());
    // A replacement with two masters is refused by validate_config.
    next.sync_daemons = {daemon(config::SyncState::master), daemon(config::SyncState::master)};
    auto e = ed.apply(ReplaceConfig{next});
    REQUIRE(e);
    CHECK(e->field == "config.sync_daemons[1].state");
}

TEST_CASE("sync daemons: the changes touch no service, travel as JSON and are journaled") {
    Batch b{{StartSyncDaemon{daemon(config::SyncState::master)}, StopSyncDaemon{config::SyncState::backup}}};
    Touched t = touched_by(b);
    CHECK(t.sync_daemons);
    CHECK_FALSE(t.everything);
    CHECK_FALSE(t.port_groups);
    CHECK_FALSE(t.timeouts);
    CHECK(t.services.empty());
    CHECK_FALSE(is_runtime(b.changes[0]));  // persisted, unlike health state
    nlohmann::json j = to_json(b, RuntimeState::omit);
    CHECK(j == J(R"([{"op":"start-sync-daemon","daemon":{"state":"master","mcast_interface":"dplb0","syncid":0,
        "sync_maxlen":1472,"mcast_group":"224.0.0.81","mcast_port":8848,"mcast_ttl":1,"peers":[]}},
        {"op":"stop-sync-daemon","state":"backup"}])"));
    auto back = batch_from_json(j);
    REQUIRE(back.ok());
    CHECK(to_json(*back) == j);
    auto bad = change_from_json(J(R"({"op":"stop-sync-daemon","state":"primary"})"), "changes[0]");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().field == "changes[0].state");
    auto missing = change_from_json(J(R"({"op":"start-sync-daemon"})"), "changes[0]");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().field == "changes[0].daemon");
}

TEST_CASE("sync daemons: diff_config stops, starts and restarts what differs") {
    config::Config from = test::nat_lab(), to = from;
    CHECK(diff_config(from, to)->empty());
    auto master = daemon(config::SyncState::master);
    to.sync_daemons = {master};
    auto d = diff_config(from, to);
    REQUIRE(d.has_value());
    REQUIRE(d->size() == 1);
    CHECK(std::get<StartSyncDaemon>((*d)[0]).daemon == master);
    from = to;
    to.sync_daemons[0].syncid = 4;
    to.sync_daemons.push_back(daemon(config::SyncState::backup));
    d = diff_config(from, to);
    REQUIRE(d.has_value());
    REQUIRE(d->size() == 3);
    CHECK(std::get<StopSyncDaemon>((*d)[0]).state == config::SyncState::master);
    CHECK(std::get<StartSyncDaemon>((*d)[1]).daemon.syncid == 4);
    CHECK(std::get<StartSyncDaemon>((*d)[2]).daemon.state == config::SyncState::backup);
    // Applied in order, the diff leads from one to the other.
    ConfigEditor ed(from);
    REQUIRE_FALSE(ed.apply_batch(Batch{*d}));
    CHECK(ed.config().sync_daemons == to.sync_daemons);
    d = diff_config(to, test::nat_lab());
    REQUIRE(d.has_value());
    CHECK(d->size() == 2);
}
