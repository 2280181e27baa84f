// keepalived's lvs_sync_daemon (and the deprecated lvs_sync_daemon_interface) -> a master and
// a backup sync daemon with the same settings; the replacement configuration takes them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>

#include "control/keepalived/parse.hpp"
#include "helpers.hpp"

using namespace dplb;
using namespace dplb::keepalived;

namespace {

const std::string dir = KEEPALIVED_FIXTURES;

bool has_warning(const KeepalivedConfig& c, const std::string& text) {
    return std::any_of(c.warnings.begin(), c.warnings.end(),
                       [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

// keepalived.conf text in a file of its own, parsed.
model::Result<KeepalivedConfig> parse_text(const test::TempDir& tmp, const std::string& text) {
    std::ofstream(tmp.file("k.conf")) << text;
    return parse_keepalived(tmp.file("k.conf"));
}

const std::string vs = "virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind DR\n protocol TCP\n real_server 10.1.1.1 80 {\n }\n}\n";
const std::string vi_1 = "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority 100\n}\n";

config::SyncDaemon expected(config::SyncState state, const char* ifname, uint8_t syncid) {
    config::SyncDaemon d;
    d.state = state;
    d.mcast_interface = ifname;
    d.syncid = syncid;
    return d;
}

}  // namespace

TEST_CASE("keepalived: lvs_sync_daemon gives a master and a backup with the same settings") {
    auto r = parse_keepalived(dir + "/good/sync_daemon.conf");
    INFO((r ? std::string() : r.error().str()));
    REQUIRE(r.ok());
    REQUIRE(r->sync_daemons);
    REQUIRE(r->sync_daemons->size() == 2);
    auto d = expected(config::SyncState::master, "lo", 5);
    d.sync_maxlen = 1400;
    d.mcast_port = 8849;
    d.mcast_ttl = 2;
    d.mcast_group = *Ip4::parse("239.1.1.1");
    CHECK((*r->sync_daemons)[0] == d);
    d.state = config::SyncState::backup;
    CHECK((*r->sync_daemons)[1] == d);
    CHECK(has_warning(*r, "good/sync_daemon.conf:5: global_defs ignored but for its lvs_sync_daemon"));

    // The replacement takes them; a file without lvs_sync_daemon keeps what runs.
    config::Config current;
    current.sync_daemons = {expected(config::SyncState::backup, "eth9", 1)};
    auto c = replacement_config(current, *r);
    REQUIRE(c.ok());
    CHECK(c->sync_daemons == *r->sync_daemons);
    auto plain = parse_keepalived(dir + "/good/seed_lab.conf");
    REQUIRE(plain.ok());
    CHECK_FALSE(plain->sync_daemons);
    auto kept = replacement_config(current, *plain);
    REQUIRE(kept.ok());
    CHECK(kept->sync_daemons == current.sync_daemons);
}

TEST_CASE("keepalived: lvs_sync_daemon's VRRP instance gives the default syncid (its virtual_router_id)") {
    test::TempDir t;
    for (const char* line : {"lvs_sync_daemon eth1 VI_1", "lvs_sync_daemon eth1 inst VI_1"}) {
        INFO(line);
        auto r = parse_text(t, "global_defs {\n " + std::string(line) + "\n}\n" + vi_1 + vs);
        INFO((r ? std::string() : r.error().str()));
        REQUIRE(r.ok());
        REQUIRE(r->sync_daemons);
        CHECK((*r->sync_daemons)[0] == expected(config::SyncState::master, "eth1", 51));
        CHECK((*r->sync_daemons)[1] == expected(config::SyncState::backup, "eth1", 51));
    }
    // `id` wins; the old spelling (a bare number after the instance) too, with a warning.
    auto id = parse_text(t, "global_defs {\n lvs_sync_daemon eth1 VI_1 id 7\n}\n" + vi_1 + vs);
    REQUIRE(id.ok());
    CHECK((*id->sync_daemons)[0].syncid == 7);
    auto old = parse_text(t, "global_defs {\n lvs_sync_daemon eth1 VI_1 8\n}\n" + vi_1 + vs);
    REQUIRE(old.ok());
    CHECK((*old->sync_daemons)[0].syncid == 8);
    CHECK(has_warning(*old, "k.conf:2: lvs_sync_daemon: a syncid without 'id' is the old spelling"));
    // No instance: syncid 0, as keepalived.
    auto none = parse_text(t, "global_defs {\n lvs_sync_daemon eth1\n}\n" + vs);
    REQUIRE(none.ok());
    CHECK((*none->sync_daemons)[1] == expected(config::SyncState::backup, "eth1", 0));
    // An instance the file does not have: its syncid cannot be known without `id`.
    auto missing = parse_text(t, "global_defs {\n lvs_sync_daemon eth1 VI_9\n}\n" + vs);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().str().find("k.conf:2: lvs_sync_daemon: no vrrp_instance VI_9 in the file") != std::string::npos);
    auto given = parse_text(t, "global_defs {\n lvs_sync_daemon eth1 VI_9 id 3\n}\n" + vs);
    REQUIRE(given.ok());
    CHECK((*given->sync_daemons)[0].syncid == 3);
    CHECK(has_warning(*given, "k.conf:2: lvs_sync_daemon: no vrrp_instance VI_9 in the file"));
}

TEST_CASE("keepalived: the deprecated lvs_sync_daemon_interface is read as lvs_sync_daemon IF ITS_INSTANCE") {
    test::TempDir t;
    const std::string vi = "vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 12\n lvs_sync_daemon_interface eth2\n}\n";
    auto r = parse_text(t, vi + vs);
    INFO((r ? std::string() : r.error().str()));
    REQUIRE(r.ok());
    REQUIRE(r->sync_daemons);
    CHECK((*r->sync_daemons)[0] == expected(config::SyncState::master, "eth2", 12));
    CHECK(has_warning(*r, "k.conf:4: lvs_sync_daemon_interface is deprecated"));
    // lvs_sync_daemon, when present, wins (keepalived ignores the other).
    auto both = parse_text(t, "global_defs {\n lvs_sync_daemon eth5 id 1\n}\n" + vi + vs);
    REQUIRE(both.ok());
    CHECK((*both->sync_daemons)[0].mcast_interface == "eth5");
    CHECK(has_warning(*both, "lvs_sync_daemon_interface: ignored, lvs_sync_daemon at"));
    // A second lvs_sync_daemon is ignored with a warning, as keepalived does.
    auto twice = parse_text(t, "global_defs {\n lvs_sync_daemon eth5\n lvs_sync_daemon eth6\n}\n" + vs);
    REQUIRE(twice.ok());
    CHECK((*twice->sync_daemons)[0].mcast_interface == "eth5");
    CHECK(has_warning(*twice, "k.conf:3: lvs_sync_daemon: already given at"));
}

TEST_CASE("keepalived: bad lvs_sync_daemon lines name file, line and what is wrong") {
    test::TempDir t;
    auto err = [&](const std::string& line) {
        auto r = parse_text(t, "global_defs {\n " + line + "\n}\n" + vs);
        REQUIRE_FALSE(r.ok());
        return r.error().str();
    };
    CHECK(err("lvs_sync_daemon").ends_with("k.conf:2: lvs_sync_daemon: needs an interface: lvs_sync_daemon INTERFACE [VRRP_INSTANCE] ..."));
    CHECK(err("lvs_sync_daemon averyveryverylongname").find("longer than 15 characters") != std::string::npos);
    CHECK(err("lvs_sync_daemon eth0 id 300").ends_with("k.conf:2: lvs_sync_daemon: '300' is out of range 0..255"));
    CHECK(err("lvs_sync_daemon eth0 maxlen 100").ends_with("k.conf:2: lvs_sync_daemon: '100' is out of range 128..65507"));
    CHECK(err("lvs_sync_daemon eth0 port 0").ends_with("k.conf:2: lvs_sync_daemon: '0' is out of range 1..65535"));
    CHECK(err("lvs_sync_daemon eth0 ttl 256").ends_with("k.conf:2: lvs_sync_daemon: '256' is out of range 1..255"));
    CHECK(err("lvs_sync_daemon eth0 group 10.0.0.1")
              .ends_with("k.conf:2: lvs_sync_daemon: mcast_group: '10.0.0.1' is not a multicast address (224.0.0.0/4)"));
    CHECK(err("lvs_sync_daemon eth0 group").ends_with("k.conf:2: lvs_sync_daemon: 'group' needs a value"));
    CHECK(err("lvs_sync_daemon eth0 id 1 frob 2").ends_with(
        "k.conf:2: lvs_sync_daemon: unknown option 'frob' (expected inst, id, maxlen, port, ttl or group)"));
}
