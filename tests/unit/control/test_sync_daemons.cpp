// The sync daemons in the configuration: JSON codec and validation (issue 12).
#include <catch2/catch.hpp>

#include "codec/config_json.hpp"
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
    struct Case {
        const char* daemons;
        const char* field;
        const char* message;
    };
    const Case cases[] = {
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
    };
    for (const auto& c : cases) {
        INFO(c.daemons);
        auto e = decode_error(c.daemons);
        CHECK(e.field == c.field);
        CHECK_THAT(e.message, Catch::Contains(c.message));
    }
}

TEST_CASE("sync daemons: validation names the member at fault") {
    struct Case {
        const char* daemon;
        const char* field;
        const char* message;
    };
    const Case cases[] = {
        {R"({"state":"master","mcast_interface":""})", "config.sync_daemons[0].mcast_interface",
         "an interface name is required"},
        {R"({"state":"master","mcast_interface":"a23456789012345b"})", "config.sync_daemons[0].mcast_interface",
         "interface name 'a23456789012345b' is longer than 15 characters"},
        {R"({"state":"master","mcast_interface":"eth0:1"})", "config.sync_daemons[0].mcast_interface",
         "contains a character the kernel refuses"},
        {R"({"state":"master","mcast_interface":"eth 0"})", "config.sync_daemons[0].mcast_interface",
         "contains a character the kernel refuses"},
        {R"({"state":"master","mcast_interface":".."})", "config.sync_daemons[0].mcast_interface",
         "'..' is not a valid interface name"},
        {R"({"state":"master","mcast_interface":"eth0","sync_maxlen":127})", "config.sync_daemons[0].sync_maxlen",
         "must be between 128 and 65507 (got 127)"},
        {R"({"state":"master","mcast_interface":"eth0","sync_maxlen":65508})", "config.sync_daemons[0].sync_maxlen",
         "must be between 128 and 65507 (got 65508)"},
        {R"({"state":"master","mcast_interface":"eth0","mcast_group":"10.0.0.1"})",
         "config.sync_daemons[0].mcast_group", "'10.0.0.1' is not a multicast address (224.0.0.0/4)"},
        {R"({"state":"master","mcast_interface":"eth0","mcast_port":0})", "config.sync_daemons[0].mcast_port",
         "must be between 1 and 65535"},
        {R"({"state":"master","mcast_interface":"eth0","mcast_ttl":0})", "config.sync_daemons[0].mcast_ttl",
         "must be between 1 and 255"},
        {R"({"state":"master","mcast_interface":"eth0","peers":["224.0.0.81"]})", "config.sync_daemons[0].peers[0]",
         "'224.0.0.81' is not a usable unicast address (multicast)"},
        {R"({"state":"master","mcast_interface":"eth0","peers":["0.0.0.0"]})", "config.sync_daemons[0].peers[0]",
         "(unspecified)"},
        {R"({"state":"master","mcast_interface":"eth0","peers":["10.0.0.2","10.0.0.2"]})",
         "config.sync_daemons[0].peers[1]", "peer 10.0.0.2 is listed twice"},
    };
    for (const auto& c : cases) {
        INFO(c.daemon);
        auto e = decode_error(std::string("[") + c.daemon + "]");
        CHECK(e.field == c.field);
        CHECK_THAT(e.message, Catch::Contains(c.message));
    }
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
