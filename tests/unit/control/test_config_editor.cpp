// ConfigEditor: every change type applied and refused (the configuration untouched, the
// error naming the member), batches all or nothing, exact rollback, swap-remove order and
// the NAT owner rule.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "model/config_editor.hpp"

using namespace dplb;
using namespace dplb::config;
using model::ConfigEditor;

namespace {

Ip4 ip(const char* a) { return *Ip4::parse(a); }

ServiceKey tcp_key(const char* a, uint16_t port) { return {Protocol::tcp, ip(a), port, 0}; }
ServiceKey mark_key(uint32_t mark) {
    ServiceKey k;
    k.fwmark = mark;
    return k;
}

RealServer real(const char* a, uint16_t port, ForwardMethod f = ForwardMethod::nat) {
    RealServer r;
    r.address = ip(a);
    r.port = port;
    r.forward = f;
    return r;
}

Service service(ServiceKey k, std::vector<RealServer> reals = {}) {
    Service s;
    s.key = k;
    s.reals = std::move(reals);
    return s;
}

void applies(ConfigEditor& ed, const model::Change& c) {
    auto e = ed.apply(c);
    if (e) FAIL(e->str());
}

// Refused with an error on `field`, and the configuration exactly as it was.
model::Error refused(ConfigEditor& ed, const model::Change& c, const std::string& field,
                     const std::string& path = "") {
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

}  // namespace

TEST_CASE("editor: services added, edited, deleted and refused") {
    ConfigEditor ed(test::every_feature());
    Service s = service(tcp_key("10.0.0.9", 80), {real("10.1.9.1", 80)});
    applies(ed, model::AddService{s});
    REQUIRE(ed.find_service(s.key));
    CHECK(ed.config().services.back() == s);
    refused(ed, model::AddService{s}, "service");
    Service bad = service(tcp_key("10.0.0.10", 0));  // port 0 needs persistence
    refused(ed, model::AddService{bad}, "service.port");
    // Covered by port group 66's tcp 192.168.0.200:80.
    auto e = refused(ed, model::AddService{service(tcp_key("192.168.0.200", 80))}, "service");
    CHECK_THAT(e.message, Catch::Contains("port_groups[0].matches[0]"));

    Service edit = model::attributes_of(s);
    edit.scheduler = Scheduler::rr;
    edit.timeouts.tcp = 30;
    applies(ed, model::EditService{edit});
    CHECK(ed.find_service(s.key)->scheduler == Scheduler::rr);
    CHECK(ed.find_service(s.key)->reals == s.reals);  // the lists stay
    edit.sched_flags = sched_flag_mh_port;
    refused(ed, model::EditService{edit}, "service.sched_flags", "");
    refused(ed, model::EditService{service(tcp_key("10.9.9.9", 1))}, "service");

    applies(ed, model::DeleteService{s.key});
    CHECK_FALSE(ed.find_service(s.key));
    refused(ed, model::DeleteService{s.key}, "service");
    CHECK(ed.pending() == 3);
}

TEST_CASE("editor: a deleted service's place is taken by the last one") {
    Config c;
    c.services = {service(tcp_key("10.0.0.1", 80)), service(tcp_key("10.0.0.2", 80)),
                  service(tcp_key("10.0.0.3", 80))};
    ConfigEditor ed(c);
    applies(ed, model::DeleteService{tcp_key("10.0.0.1", 80)});
    REQUIRE(ed.config().services.size() == 2);
    CHECK(ed.config().services[0].key == tcp_key("10.0.0.3", 80));
    CHECK(ed.config().services[1].key == tcp_key("10.0.0.2", 80));
    CHECK(ed.find_service(tcp_key("10.0.0.3", 80)) == &ed.config().services[0]);
    ed.rollback();
    CHECK(ed.config() == c);  // order included
    CHECK(ed.find_service(tcp_key("10.0.0.1", 80)) == &ed.config().services[0]);
}

TEST_CASE("editor: real servers and local addresses") {
    Config base = test::every_feature();
    ConfigEditor ed(base);
    ServiceKey sh = tcp_key("10.0.0.1", 80), mh = tcp_key("10.0.0.1", 443);
    applies(ed, model::AddReal{sh, real("10.1.1.9", 80)});
    refused(ed, model::AddReal{sh, real("10.1.1.9", 80)}, "real_server");
    refused(ed, model::AddReal{sh, real("10.1.1.10", 80, ForwardMethod::fullnat)}, "real_server.forward");
    refused(ed, model::AddReal{sh, real("10.1.1.10", 81, ForwardMethod::dr)}, "real_server.port");
    refused(ed, model::AddReal{tcp_key("10.9.9.9", 80), real("10.1.1.9", 80)}, "service");

    RealServer edited = real("10.1.1.9", 80);
    edited.weight = 7;
    applies(ed, model::EditReal{sh, edited});
    CHECK(ed.find_service(sh)->reals.back() == edited);
    refused(ed, model::EditReal{sh, real("10.1.1.99", 80)}, "real_server");
    edited.lower_threshold = 5;
    edited.upper_threshold = 1;
    refused(ed, model::EditReal{sh, edited}, "real_server.lower_threshold");

    applies(ed, model::DeleteReal{sh, ip("10.1.1.1"), 8080});
    CHECK(ed.find_service(sh)->reals.front().address == ip("10.1.1.2"));
    refused(ed, model::DeleteReal{sh, ip("10.1.1.1"), 8080}, "real_server");

    applies(ed, model::AddLocalAddress{mh, ip("192.168.100.202")});
    refused(ed, model::AddLocalAddress{mh, ip("192.168.100.202")}, "address");
    refused(ed, model::AddLocalAddress{mh, ip("0.0.0.0")}, "address");
    applies(ed, model::DeleteLocalAddress{mh, ip("192.168.100.200")});
    applies(ed, model::DeleteLocalAddress{mh, ip("192.168.100.201")});
    refused(ed, model::DeleteLocalAddress{mh, ip("192.168.100.202")}, "address");  // last one, fullnat servers
    refused(ed, model::DeleteLocalAddress{mh, ip("192.168.100.250")}, "address");

    ed.rollback();
    CHECK(ed.config() == base);
}

TEST_CASE("editor: port groups") {
    Config base = test::every_feature();
    ConfigEditor ed(base);
    PortGroup g{70, {{Protocol::tcp, ip("10.5.0.1"), 80, 90}}};
    applies(ed, model::AddPortGroup{g});
    REQUIRE(ed.find_port_group(70));
    // Appended to the existing group.
    applies(ed, model::AddPortGroup{{70, {{Protocol::udp, ip("10.5.0.1"), 80, 80}}}});
    CHECK(ed.find_port_group(70)->matches.size() == 2);

    auto e = refused(ed, model::AddPortGroup{{71, {{Protocol::tcp, ip("10.5.0.1"), 85, 100}}}},
                     "port_group.matches[0]");
    CHECK_THAT(e.message, Catch::Contains("port group 70's"));
    refused(ed, model::AddPortGroup{{71, {{Protocol::tcp, ip("10.6.0.1"), 1, 5}, {Protocol::tcp, ip("10.6.0.1"), 5, 6}}}},
            "port_group.matches[1]");
    e = refused(ed, model::AddPortGroup{{71, {{Protocol::tcp, ip("10.0.0.1"), 400, 500}}}}, "port_group.matches[0]");
    CHECK_THAT(e.message, Catch::Contains("takes the packets of service tcp 10.0.0.1:443"));
    refused(ed, model::AddPortGroup{{71, {}}}, "port_group.matches");
    refused(ed, model::AddPortGroup{{0, {{Protocol::tcp, ip("10.6.0.1"), 1, 5}}}}, "port_group.mark");

    applies(ed, model::DeletePortGroup{70, PortMatch{Protocol::udp, ip("10.5.0.1"), 80, 80}});
    CHECK(ed.find_port_group(70)->matches == g.matches);
    refused(ed, model::DeletePortGroup{70, PortMatch{Protocol::udp, ip("10.5.0.1"), 80, 80}}, "match");
    refused(ed, model::DeletePortGroup{99, std::nullopt}, "mark");
    applies(ed, model::DeletePortGroup{66, std::nullopt});  // order of the others kept
    CHECK(ed.config().port_groups[0].mark == 67);
    // Its matches are free again.
    applies(ed, model::AddService{service(tcp_key("192.168.0.200", 80))});
    applies(ed, model::DeletePortGroup{70, PortMatch{Protocol::tcp, ip("10.5.0.1"), 80, 90}});  // the last match
    CHECK_FALSE(ed.find_port_group(70));

    ed.rollback();
    CHECK(ed.config() == base);
    REQUIRE(ed.find_port_group(66));
    refused(ed, model::AddService{service(tcp_key("192.168.0.200", 80))}, "service");
}

TEST_CASE("editor: timeouts, clear and replace-config") {
    Config base = test::every_feature();
    ConfigEditor ed(base);
    applies(ed, model::SetTimeouts{{10, 20, 30}});
    CHECK(ed.config().timeouts == Timeouts{10, 20, 30});
    refused(ed, model::SetTimeouts{{0, 20, 30}}, "timeouts.tcp");
    TimeoutOverrides t;
    t.udp = 5;
    applies(ed, model::SetServiceTimeouts{tcp_key("10.0.0.1", 80), t});
    CHECK(ed.find_service(tcp_key("10.0.0.1", 80))->timeouts == t);
    refused(ed, model::SetServiceTimeouts{tcp_key("10.9.0.1", 80), t}, "service");
    t.tcp = 0;
    refused(ed, model::SetServiceTimeouts{tcp_key("10.0.0.1", 80), t}, "timeouts.tcp");

    applies(ed, model::Clear{});
    CHECK(ed.config().services.empty());
    CHECK(ed.config().port_groups.empty());
    CHECK(ed.config().timeouts == Timeouts{10, 20, 30});
    applies(ed, model::ReplaceConfig{test::nat_lab()});
    CHECK(ed.config() == test::nat_lab());
    Config invalid = test::nat_lab();
    invalid.services.push_back(invalid.services[0]);
    refused(ed, model::ReplaceConfig{invalid}, "config.services[1]");

    ed.rollback();
    CHECK(ed.config() == base);
    CHECK(ed.find_service(tcp_key("10.0.0.1", 443)));
}

TEST_CASE("editor: a NAT real server keeps one persistence across its services") {
    Config base = test::every_feature();  // tcp 10.0.0.1:80 has NAT 10.1.1.1:8080, not persistent
    ConfigEditor ed(base);
    Service p = service(tcp_key("10.0.0.20", 80), {real("10.1.9.1", 80), real("10.1.1.1", 8080)});
    p.persistence = Persistence{};
    auto e = refused(ed, model::AddService{p}, "service.real_servers[1]");
    CHECK(e.message == "NAT real server 10.1.1.1:8080 is in services with different persistence; its replies "
                       "could not be matched to one worker");
    // Another protocol is another key; FULLNAT servers do not count.
    Service u = p;
    u.key.protocol = Protocol::udp;
    applies(ed, model::AddService{u});
    p.reals.pop_back();
    applies(ed, model::AddService{p});
    refused(ed, model::AddReal{p.key, real("10.1.1.1", 8080)}, "real_server");
    // The same persistence is fine.
    Service same = service(tcp_key("10.0.0.22", 80), {real("10.1.9.1", 80)});
    same.persistence = Persistence{60, ip("255.255.255.255")};
    applies(ed, model::AddService{same});

    // edit-real: a DR server becoming NAT joins the rule.
    Service dr = service(tcp_key("10.0.0.21", 8080), {real("10.1.1.1", 8080, ForwardMethod::dr)});
    dr.persistence = Persistence{};
    applies(ed, model::AddService{dr});
    refused(ed, model::EditReal{dr.key, real("10.1.1.1", 8080)}, "real_server");

    // edit-service: dropping the persistence of p would give 10.1.9.1:80/tcp two owners.
    Service attrs = model::attributes_of(p);
    attrs.persistence.reset();
    refused(ed, model::EditService{attrs}, "service.persistence");
    // Removing the other owner first makes it fine: deleting releases the keys.
    applies(ed, model::DeleteService{same.key});
    applies(ed, model::EditService{attrs});
    applies(ed, model::AddReal{p.key, real("10.1.1.1", 8080)});

    ed.rollback();
    CHECK(ed.config() == base);
}

TEST_CASE("editor: port groups bring their protocols to a fwmark service's NAT servers") {
    Config c;
    PortGroup g{5, {{Protocol::tcp, ip("10.5.0.1"), 80, 80}}};
    c.port_groups = {g};
    Service fwm = service(mark_key(5), {real("10.1.1.1", 80)});
    Service u = service({Protocol::udp, ip("10.0.0.1"), 80, 0}, {real("10.1.1.1", 80)});
    u.persistence = Persistence{};
    c.services = {fwm, u};
    ConfigEditor ed(c);
    // udp for the mark's service would share 10.1.1.1:80/udp with the persistent udp service.
    auto e = refused(ed, model::AddPortGroup{{5, {{Protocol::udp, ip("10.5.0.1"), 80, 80}}}}, "port_group");
    CHECK_THAT(e.message, Catch::Contains("NAT real server 10.1.1.1:80"));
    applies(ed, model::AddPortGroup{{6, {{Protocol::udp, ip("10.5.0.1"), 80, 80}}}});
    applies(ed, model::DeletePortGroup{5, std::nullopt});
    // Without its group the fwmark service has no keys: a persistent tcp user is now fine.
    Service t = service(tcp_key("10.0.0.2", 80), {real("10.1.1.1", 80)});
    t.persistence = Persistence{};
    applies(ed, model::AddService{t});
    refused(ed, model::AddPortGroup{g}, "port_group");
    ed.rollback();
    CHECK(ed.config() == c);
}

TEST_CASE("editor: a batch applies all or nothing") {
    Config base = test::every_feature();
    ConfigEditor ed(base);
    ServiceKey sh = tcp_key("10.0.0.1", 80);
    model::Batch batch{{model::DeleteService{tcp_key("10.0.0.1", 443)}, model::AddReal{sh, real("10.1.1.9", 80)},
                        model::SetTimeouts{{1, 2, 3}}, model::AddReal{sh, real("10.1.1.9", 80)}}};
    auto e = ed.apply_batch(batch);
    REQUIRE(e);
    CHECK(e->field == "changes[3].real_server");
    CHECK(ed.config() == base);
    CHECK(ed.pending() == 0);
    e = ed.apply_batch(batch, false);
    REQUIRE(e);
    CHECK(e->field == "real_server");

    batch.changes.pop_back();
    REQUIRE_FALSE(ed.apply_batch(batch));
    CHECK(ed.pending() == 0);  // committed
    Config after = ed.config();
    ed.rollback();
    CHECK(ed.config() == after);
    CHECK(ed.config().timeouts == Timeouts{1, 2, 3});
}

TEST_CASE("editor: touched_by and op_name") {
    model::Batch b{{model::AddReal{tcp_key("10.0.0.1", 80), real("10.1.1.9", 80)}, model::SetTimeouts{},
                    model::DeletePortGroup{5, std::nullopt}}};
    auto t = model::touched_by(b);
    CHECK_FALSE(t.everything);
    CHECK(t.port_groups);
    CHECK(t.timeouts);
    CHECK(t.services == std::vector<ServiceKey>{tcp_key("10.0.0.1", 80)});
    CHECK(model::touched_by(model::Batch{{model::Clear{}}}).everything);
    CHECK(std::string(model::op_name(model::EditReal{})) == "edit-real");
    CHECK(std::string(model::op_name(model::SetServiceTimeouts{})) == "set-timeouts");
}
