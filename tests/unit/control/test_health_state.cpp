// Runtime health state (issue 11): the two typed changes the health checker's effects become
// (set-real-health, set-sorry-active) applied and undone by the ConfigEditor, the sorry
// server's rules, the scheduling set keepalived would leave in IPVS, the JSON forms with the
// runtime members included (dataplane push, get-config) or omitted (state file, journal),
// and the request decoders that keep the runtime state the checker's whatever an operator
// sends.
#include <catch2/catch.hpp>

#include "codec/change_json.hpp"
#include "codec/config_json.hpp"
#include "control/api/mutations.hpp"
#include "control/state/state_snapshot.hpp"
#include "helpers.hpp"
#include "model/config_editor.hpp"
#include "model/runtime_state.hpp"
#include "model/scheduling_set.hpp"

using namespace dplb;
using namespace dplb::config;
using model::ConfigEditor;
using nlohmann::json;

namespace {

Ip4 ip(const char* a) { return *Ip4::parse(a); }

ServiceKey web_key() { return {Protocol::tcp, ip("10.0.0.100"), 80, 0}; }

RealServer real(const char* a, uint32_t weight = 1, ForwardMethod f = ForwardMethod::nat) {
    RealServer r;
    r.address = ip(a);
    r.port = 80;
    r.weight = weight;
    r.forward = f;
    return r;
}

// Three real servers and a sorry server, everything up.
Service web(bool sorry_inhibit = false) {
    Service s;
    s.key = web_key();
    s.scheduler = Scheduler::wrr;
    s.reals = {real("10.1.0.1", 3), real("10.1.0.2", 2), real("10.1.0.3", 1)};
    s.sorry_server = SorryServer{ip("10.9.9.9"), 8080, ForwardMethod::nat, sorry_inhibit};
    return s;
}

Config web_config(bool sorry_inhibit = false) {
    Config c;
    c.services = {web(sorry_inhibit)};
    return c;
}

model::SetRealHealth health(const char* a, RealHealth h, std::optional<uint32_t> weight = std::nullopt) {
    return {web_key(), ip(a), 80, h, weight};
}

void applies(ConfigEditor& ed, const model::Change& c) {
    auto e = ed.apply(c);
    if (e) FAIL(e->str());
}

model::Error refused(ConfigEditor& ed, const model::Change& c, const std::string& field, const std::string& path = "") {
    Config before = ed.config();
    std::size_t pending = ed.pending();
    auto e = ed.apply(c, path);
    REQUIRE(e);
    INFO(e->str());
    CHECK(e->field == field);
    CHECK(ed.config() == before);
    CHECK(ed.pending() == pending);
    return *e;
}

// "address:port weight" of each server of the scheduling set, "sorry" marking the sorry one.
std::vector<std::string> set_of(const Service& s) {
    std::vector<std::string> out;
    for (const auto& e : model::scheduling_set(s))
        out.push_back(e.address.str() + ":" + std::to_string(e.port) + " " + std::to_string(e.weight) +
                      (e.is_sorry() ? " sorry" : ""));
    return out;
}

model::Change decode(const ConfigEditor& ed, const json& request) {
    auto c = api::decode_change(ed, request);
    if (!c) FAIL(c.error().str());
    return *c;
}

}  // namespace

TEST_CASE("set-real-health: applied to one real server, undone exactly") {
    ConfigEditor ed(web_config());
    const Config before = ed.config();
    applies(ed, health("10.1.0.2", RealHealth::removed));
    applies(ed, health("10.1.0.3", RealHealth::inhibited));
    applies(ed, health("10.1.0.1", RealHealth::up, 7));
    const Service& s = ed.config().services[0];
    CHECK(s.reals[0].health == RealHealth::up);
    CHECK(s.reals[0].dynamic_weight == 7u);
    CHECK(s.reals[0].weight == 3);  // the configured weight stays
    CHECK(s.reals[1].health == RealHealth::removed);
    CHECK(s.reals[2].health == RealHealth::inhibited);
    CHECK(ed.pending() == 3);
    ed.rollback_to(1);
    CHECK(ed.config().services[0].reals[2].health == RealHealth::up);
    CHECK(ed.config().services[0].reals[1].health == RealHealth::removed);
    ed.rollback();
    CHECK(ed.config() == before);

    // Back up without a dynamic weight clears it.
    applies(ed, health("10.1.0.1", RealHealth::up, 7));
    applies(ed, health("10.1.0.1", RealHealth::up));
    CHECK_FALSE(ed.config().services[0].reals[0].dynamic_weight);
}

TEST_CASE("set-real-health: errors name the service, the real server or the weight") {
    ConfigEditor ed(web_config());
    model::SetRealHealth no_service = health("10.1.0.1", RealHealth::removed);
    no_service.service.port = 81;
    auto e = refused(ed, no_service, "changes[2].service", "changes[2]");
    CHECK(e.message == "no service tcp 10.0.0.100:81");
    e = refused(ed, health("10.1.0.7", RealHealth::removed), "real_server");
    CHECK(e.message == "no real server 10.1.0.7:80 in service tcp 10.0.0.100:80");
    model::SetRealHealth other_port = health("10.1.0.1", RealHealth::removed);
    other_port.port = 8080;
    refused(ed, other_port, "real_server");
    refused(ed, health("10.1.0.1", RealHealth::up, 65536), "dynamic_weight");
    // The sorry server is not a real server the checker can take down.
    refused(ed, health("10.9.9.9", RealHealth::removed), "real_server");
}

TEST_CASE("set-sorry-active: only with a sorry server; undone exactly") {
    ConfigEditor ed(web_config());
    const Config before = ed.config();
    applies(ed, model::SetSorryActive{web_key(), true});
    CHECK(ed.config().services[0].sorry_active);
    applies(ed, model::SetSorryActive{web_key(), true});  // idempotent
    ed.rollback();
    CHECK(ed.config() == before);

    Config plain = web_config();
    plain.services[0].sorry_server.reset();
    ConfigEditor bare(plain);
    auto e = refused(bare, model::SetSorryActive{web_key(), true}, "active");
    CHECK(e.message == "service tcp 10.0.0.100:80 has no sorry server to activate");
    applies(bare, model::SetSorryActive{web_key(), false});  // nothing to deactivate: fine
    refused(bare, model::SetSorryActive{{Protocol::udp, ip("10.0.0.100"), 80, 0}, false}, "service");
}

TEST_CASE("health changes: runtime, touching their service only") {
    model::Batch b{{health("10.1.0.1", RealHealth::removed), model::SetSorryActive{web_key(), true}}};
    auto t = model::touched_by(b);
    CHECK_FALSE(t.everything);
    CHECK_FALSE(t.port_groups);
    CHECK_FALSE(t.timeouts);
    REQUIRE(t.services.size() == 2);
    CHECK(t.services[0] == web_key());
    CHECK(t.services[1] == web_key());
    CHECK(std::string(model::op_name(b.changes[0])) == "set-real-health");
    CHECK(std::string(model::op_name(b.changes[1])) == "set-sorry-active");
    CHECK(model::is_runtime(b.changes[0]));
    CHECK(model::is_runtime(b.changes[1]));
    CHECK_FALSE(model::is_runtime(model::Change{model::Clear{}}));
}

TEST_CASE("sorry server: a real server's rules, a local address for fullnat, the NAT owner rule") {
    ConfigEditor ed;
    Service s = web();
    s.sorry_server->address = Ip4{};
    refused(ed, model::AddService{s}, "service.sorry_server.address");
    s = web();
    s.sorry_server->forward = ForwardMethod::dr;  // DR keeps the service's port
    refused(ed, model::AddService{s}, "service.sorry_server.port");
    s = web();
    s.sorry_server->forward = ForwardMethod::fullnat;
    auto e = refused(ed, model::AddService{s}, "service.sorry_server.forward");
    CHECK_THAT(e.message, Catch::Contains("a fullnat sorry server needs one"));
    s.local_addresses = {ip("192.168.100.200")};
    applies(ed, model::AddService{s});
    // The last local address stays while the fullnat sorry server needs it.
    refused(ed, model::DeleteLocalAddress{web_key(), ip("192.168.100.200")}, "address");

    // sorry_active needs a sorry server.
    Service lonely = web();
    lonely.key.port = 81;
    lonely.sorry_server.reset();
    lonely.sorry_active = true;
    refused(ed, model::AddService{lonely}, "service.sorry_active");

    // A NAT sorry server has one owner, as a NAT real server: here a persistent service's.
    Service sticky;
    sticky.key = {Protocol::tcp, ip("10.0.0.101"), 80, 0};
    sticky.persistence = Persistence{};
    sticky.reals = {real("10.9.9.9")};
    sticky.reals[0].port = 8080;
    Service other = web();
    other.key.address = ip("10.0.0.102");
    ConfigEditor owners;
    applies(owners, model::AddService{sticky});
    e = refused(owners, model::AddService{other}, "service.sorry_server");
    CHECK_THAT(e.message, Catch::Contains("NAT real server 10.9.9.9:8080"));
    // Given by an edit: refused on the sorry server, nothing changed.
    other.sorry_server.reset();
    applies(owners, model::AddService{other});
    Service attrs = model::attributes_of(web());
    attrs.key = other.key;
    refused(owners, model::EditService{attrs}, "service.sorry_server");
    attrs.sorry_server->forward = ForwardMethod::tunnel;  // not NAT: no owner
    attrs.sorry_server->port = 80;
    applies(owners, model::EditService{attrs});
    CHECK(owners.find_service(other.key)->sorry_server == attrs.sorry_server);
}

TEST_CASE("scheduling set: what keepalived leaves in IPVS") {
    Service s = web();
    using V = std::vector<std::string>;
    CHECK(set_of(s) == V{"10.1.0.1:80 3", "10.1.0.2:80 2", "10.1.0.3:80 1"});
    s.reals[0].health = RealHealth::removed;
    s.reals[1].health = RealHealth::inhibited;
    s.reals[2].dynamic_weight = 9;
    CHECK(set_of(s) == V{"10.1.0.2:80 0", "10.1.0.3:80 9"});
    // A dynamic weight only counts while up.
    s.reals[1].dynamic_weight = 4;
    CHECK(set_of(s) == V{"10.1.0.2:80 0", "10.1.0.3:80 9"});
    // Quorum lost: the sorry server, and the inhibited servers at weight 0.
    s.sorry_active = true;
    CHECK(set_of(s) == V{"10.1.0.2:80 0", "10.9.9.9:8080 1 sorry"});
    // sorry_server_inhibit: at weight 0 while not active.
    s = web(true);
    CHECK(set_of(s) == V{"10.1.0.1:80 3", "10.1.0.2:80 2", "10.1.0.3:80 1", "10.9.9.9:8080 0 sorry"});
    s.sorry_active = true;
    CHECK(set_of(s) == V{"10.9.9.9:8080 1 sorry"});
    // Every real server removed and no sorry server: an empty set.
    s = web();
    s.sorry_server.reset();
    for (auto& r : s.reals) r.health = RealHealth::removed;
    CHECK(set_of(s).empty());
    // A sorry server at a real server's place is that place once.
    s = web(true);
    s.sorry_server->address = ip("10.1.0.2");
    s.sorry_server->port = 80;
    CHECK(set_of(s) == V{"10.1.0.1:80 3", "10.1.0.2:80 2", "10.1.0.3:80 1"});
    s.reals[1].health = RealHealth::inhibited;
    s.sorry_active = true;
    CHECK(set_of(s) == V{"10.1.0.2:80 1 sorry"});
}

TEST_CASE("config JSON: runtime state included for the dataplane, omitted for the state file") {
    Config c = web_config();
    Service& s = c.services[0];
    s.reals[0].health = RealHealth::removed;
    s.reals[1].health = RealHealth::inhibited;
    s.reals[2].dynamic_weight = 9;
    s.sorry_active = true;
    test::check_round_trip(c);

    json with = model::to_json(c);
    const json& js = with["services"][0];
    CHECK(js["sorry_server"] == test::J(R"({"address":"10.9.9.9","port":8080,"forward":"nat","inhibit":false})"));
    CHECK(js["sorry_active"] == true);
    CHECK(js["real_servers"][0]["health"] == "removed");
    CHECK(js["real_servers"][1]["health"] == "inhibited");
    CHECK_FALSE(js["real_servers"][2].contains("health"));  // up: the default, not written
    CHECK(js["real_servers"][2]["dynamic_weight"] == 9);

    json without = model::to_json(c, model::RuntimeState::omit);
    const json& jo = without["services"][0];
    CHECK(jo.contains("sorry_server"));  // configuration, persisted
    CHECK_FALSE(jo.contains("sorry_active"));
    for (const auto& r : jo["real_servers"]) {
        CHECK_FALSE(r.contains("health"));
        CHECK_FALSE(r.contains("dynamic_weight"));
    }
    auto back = model::config_from_json(without);
    REQUIRE(back.ok());
    Config cleared = c;
    model::clear_runtime_state(cleared);
    CHECK(*back == cleared);

    // Nothing runtime: both forms are the same (and the same as before issue 11).
    CHECK(model::to_json(cleared) == model::to_json(cleared, model::RuntimeState::omit));
    CHECK_FALSE(model::to_json(test::every_feature()).dump().find("health") != std::string::npos);
}

TEST_CASE("config JSON: runtime and sorry server members are checked") {
    auto bad = [](const char* service_members, const std::string& field) {
        json j = test::J(R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80,"real_servers":[]}]})");
        json extra = json::parse(service_members);
        for (auto& [k, v] : extra.items()) j["services"][0][k] = v;
        auto c = model::config_from_json(j);
        REQUIRE_FALSE(c.ok());
        INFO(c.error().str());
        CHECK(c.error().field == field);
    };
    bad(R"({"sorry_active":1})", "config.services[0].sorry_active");
    bad(R"({"sorry_active":true})", "config.services[0].sorry_active");
    bad(R"({"sorry_server":{"port":80}})", "config.services[0].sorry_server.address");
    bad(R"({"sorry_server":{"address":"10.9.9.9","weight":2}})", "config.services[0].sorry_server.weight");
    bad(R"({"sorry_server":{"address":"10.9.9.9","inhibit":"yes"}})", "config.services[0].sorry_server.inhibit");
    bad(R"({"sorry_server":{"address":"0.0.0.0"}})", "config.services[0].sorry_server.address");
    bad(R"({"real_servers":[{"address":"10.1.0.1","health":"down"}]})", "config.services[0].real_servers[0].health");
    bad(R"({"real_servers":[{"address":"10.1.0.1","dynamic_weight":65536}]})",
        "config.services[0].real_servers[0].dynamic_weight");
    // The sorry server's port defaults to the service's, its method to nat.
    auto c = model::config_from_json(test::J(
        R"({"services":[{"protocol":"tcp","address":"10.0.0.1","port":80,"sorry_server":{"address":"10.9.9.9"}}]})"));
    REQUIRE(c.ok());
    CHECK(c->services[0].sorry_server == SorryServer{ip("10.9.9.9"), 80, ForwardMethod::nat, false});
}

TEST_CASE("change JSON: set-real-health and set-sorry-active; the journal form has no runtime state") {
    model::Change h = health("10.1.0.2", RealHealth::up, 12);
    CHECK(model::to_json(h) == test::J(R"({"op":"set-real-health","service":{"protocol":"tcp","address":"10.0.0.100",
        "port":80},"real_server":{"address":"10.1.0.2","port":80},"health":"up","dynamic_weight":12})"));
    model::Change a = model::SetSorryActive{web_key(), true};
    CHECK(model::to_json(a) == test::J(R"({"op":"set-sorry-active","service":{"protocol":"tcp","address":"10.0.0.100",
        "port":80},"active":true})"));
    for (const model::Change& c : {h, a, model::Change{health("10.1.0.1", RealHealth::inhibited)}}) {
        auto back = model::change_from_json(model::to_json(c), "c");
        REQUIRE(back.ok());
        CHECK(model::to_json(*back) == model::to_json(c));
    }
    auto back = model::change_from_json(model::to_json(h), "c");
    REQUIRE(back.ok());
    const auto& d = std::get<model::SetRealHealth>(*back);
    CHECK(d.dynamic_weight == 12u);
    CHECK(d.health == RealHealth::up);
    // The real server's port defaults to the service's, as delete-real's.
    auto short_form = model::change_from_json(test::J(R"({"op":"set-real-health","service":{"protocol":"tcp",
        "address":"10.0.0.100","port":80},"real_server":{"address":"10.1.0.2"},"health":"removed"})"), "c");
    REQUIRE(short_form.ok());
    CHECK(std::get<model::SetRealHealth>(*short_form).port == 80);
    CHECK_FALSE(std::get<model::SetRealHealth>(*short_form).dynamic_weight);
    auto err = [](const char* text) {
        auto c = model::change_from_json(test::J(text), "changes[0]");
        REQUIRE_FALSE(c.ok());
        return c.error().field;
    };
    CHECK(err(R"({"op":"set-real-health","service":{"fwmark":1},"real_server":{"address":"10.1.0.2"},
        "health":"dead"})") == "changes[0].health");
    CHECK(err(R"({"op":"set-real-health","service":{"fwmark":1},"real_server":{"address":"10.1.0.2"}})") ==
          "changes[0].health");
    CHECK(err(R"({"op":"set-real-health","service":{"fwmark":1},"real_server":{"address":"10.1.0.2","weight":1},
        "health":"up"})") == "changes[0].real_server.weight");
    CHECK(err(R"({"op":"set-sorry-active","service":{"fwmark":1},"active":1})") == "changes[0].active");
    CHECK(err(R"({"op":"set-sorry-active","service":{"fwmark":1}})") == "changes[0].active");

    // The journal form: runtime changes left out, the others without runtime members.
    RealServer down = real("10.1.0.2", 2);
    down.health = RealHealth::removed;
    Service attrs = model::attributes_of(web());
    attrs.sorry_active = true;
    model::Batch batch{{h, model::EditReal{web_key(), down}, a, model::EditService{attrs}}};
    CHECK(model::has_runtime_state(batch));
    json journal = model::to_json(batch, model::RuntimeState::omit);
    REQUIRE(journal.size() == 2);
    CHECK(journal[0]["op"] == "edit-real");
    CHECK_FALSE(journal[0]["real_server"].contains("health"));
    CHECK(journal[1]["op"] == "edit-service");
    CHECK_FALSE(journal[1]["service"].contains("sorry_active"));
    CHECK(journal[1]["service"].contains("sorry_server"));
    json pushed = model::to_json(batch);
    REQUIRE(pushed.size() == 4);
    CHECK(pushed[1]["real_server"]["health"] == "removed");
    CHECK(pushed[3]["service"]["sorry_active"] == true);
    auto decoded = model::batch_from_json(pushed);
    REQUIRE(decoded.ok());
    CHECK(std::get<model::EditService>(decoded->changes[3]).service.sorry_active);
    CHECK(std::get<model::EditService>(decoded->changes[3]).service.sorry_server == attrs.sorry_server);

    model::Batch plain{{model::EditReal{web_key(), real("10.1.0.2", 2)}, model::AddService{web()}}};
    CHECK_FALSE(model::has_runtime_state(plain));
    CHECK(model::to_json(plain) == model::to_json(plain, model::RuntimeState::omit));
}

TEST_CASE("state file: the sorry server is kept, the runtime state is not") {
    Config c = web_config();
    c.services[0].reals[1].health = RealHealth::removed;
    c.services[0].reals[2].dynamic_weight = 4;
    c.services[0].sorry_active = true;
    std::string text = state::encode_snapshot(c, 42);
    CHECK(text.find("health") == std::string::npos);
    CHECK(text.find("dynamic_weight") == std::string::npos);
    CHECK(text.find("sorry_active") == std::string::npos);
    auto back = state::decode_snapshot(text, "state.json");
    REQUIRE(back.ok());
    CHECK(back->generation == 42);
    Config expected = c;
    model::clear_runtime_state(expected);
    CHECK(back->config == expected);
    CHECK(back->config.services[0].sorry_server == c.services[0].sorry_server);
}

TEST_CASE("requests: the runtime state is the health checker's, whatever an operator sends") {
    ConfigEditor ed(web_config());
    applies(ed, health("10.1.0.2", RealHealth::removed));
    applies(ed, health("10.1.0.3", RealHealth::up, 5));
    applies(ed, model::SetSorryActive{web_key(), true});
    ed.commit();
    const json svc = model::key_to_json(web_key());

    // add-real: a new server starts up.
    auto add = decode(ed, json{{"cmd", "add-real"},
                               {"service", svc},
                               {"real_server", test::J(R"({"address":"10.1.0.4","health":"removed"})")}});
    CHECK(std::get<model::AddReal>(add).real.health == RealHealth::up);
    // edit-real: the server keeps its own, the request's is ignored.
    auto edit = decode(ed, json{{"cmd", "edit-real"},
                                {"service", svc},
                                {"real_server", test::J(R"({"address":"10.1.0.2","weight":9,"health":"up"})")}});
    const RealServer& edited = std::get<model::EditReal>(edit).real;
    CHECK(edited.weight == 9);
    CHECK(edited.health == RealHealth::removed);
    applies(ed, edit);
    CHECK(ed.config().services[0].reals[1].health == RealHealth::removed);

    // edit-service: the sorry server stays active unless it is gone.
    auto keep = decode(ed, json{{"cmd", "edit-service"},
                                {"service", test::J(R"({"protocol":"tcp","address":"10.0.0.100","port":80,
                                    "scheduler":"rr","sorry_active":false})")}});
    CHECK(std::get<model::EditService>(keep).service.sorry_active);
    auto gone = decode(ed, json{{"cmd", "edit-service"},
                                {"service", test::J(R"({"protocol":"tcp","address":"10.0.0.100","port":80,
                                    "sorry_server":null})")}});
    CHECK_FALSE(std::get<model::EditService>(gone).service.sorry_active);
    applies(ed, gone);
    CHECK_FALSE(ed.config().services[0].sorry_server);
    CHECK_FALSE(ed.config().services[0].sorry_active);
    ed.rollback();
    auto moved = decode(ed, json{{"cmd", "edit-service"},
                                 {"service", test::J(R"({"protocol":"tcp","address":"10.0.0.100","port":80,
                                     "sorry_server":{"address":"10.9.9.8","inhibit":true}})")}});
    applies(ed, moved);
    CHECK(ed.config().services[0].sorry_server == SorryServer{ip("10.9.9.8"), 80, ForwardMethod::nat, true});
    CHECK(ed.config().services[0].sorry_active);  // still the quorum's state
    ed.rollback();

    // replace-config (dplbadm -R, a reload): the servers that stay keep their state, new
    // ones start up, the request's runtime members are ignored.
    Config next = web_config();
    next.services[0].reals.pop_back();
    next.services[0].reals.push_back(real("10.1.0.4"));
    next.services[0].reals[0].health = RealHealth::inhibited;  // ignored
    Service added = web();
    added.key.port = 81;
    added.reals[0].health = RealHealth::removed;  // ignored: a new service starts up
    added.sorry_active = true;
    next.services.push_back(added);
    auto replace = decode(ed, json{{"cmd", "replace-config"}, {"config", model::to_json(next)}});
    const Config& got = std::get<model::ReplaceConfig>(replace).config;
    CHECK(got.services[0].reals[0].health == RealHealth::up);
    CHECK(got.services[0].reals[1].health == RealHealth::removed);
    CHECK(got.services[0].reals[2].health == RealHealth::up);
    CHECK_FALSE(got.services[0].reals[2].dynamic_weight);
    CHECK(got.services[0].sorry_active);
    CHECK_FALSE(model::has_runtime_state(got.services[1]));

    // add-service: up, whatever was sent.
    auto svc_add = decode(ed, json{{"cmd", "add-service"}, {"service", model::to_json(added)}});
    CHECK_FALSE(model::has_runtime_state(std::get<model::AddService>(svc_add).service));
    CHECK(std::get<model::AddService>(svc_add).service.sorry_server == added.sorry_server);
}
