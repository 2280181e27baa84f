// diff_config: the changes of a reload take `from` to `to` exactly (checked by applying them
// with the editor), and an unchanged service produces nothing.
#include <algorithm>

#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "model/config_diff.hpp"
#include "model/config_editor.hpp"

using namespace dplb;
using namespace dplb::config;

namespace {

Ip4 ip(const char* a) { return *Ip4::parse(a); }

// Order-insensitive form: services by key, real servers and local addresses sorted.
Config canonical(Config c) {
    auto key = [](const ServiceKey& k) { return std::make_tuple(k.fwmark, uint8_t(k.protocol), k.address.host(), k.port); };
    std::sort(c.services.begin(), c.services.end(), [&](auto& a, auto& b) { return key(a.key) < key(b.key); });
    for (auto& s : c.services) {
        std::sort(s.reals.begin(), s.reals.end(), [](auto& a, auto& b) {
            return std::make_pair(a.address.host(), a.port) < std::make_pair(b.address.host(), b.port);
        });
        std::sort(s.local_addresses.begin(), s.local_addresses.end());
    }
    return c;
}

void reaches(const Config& from, const Config& to) {
    auto changes = model::diff_config(from, to);
    REQUIRE(changes.has_value());
    model::ConfigEditor ed(from);
    for (const auto& c : *changes) {
        auto e = ed.apply(c);
        INFO(model::op_name(c) << ": " << (e ? e->str() : ""));
        REQUIRE(!e);
    }
    CHECK(canonical(ed.config()) == canonical(to));
}

}  // namespace

TEST_CASE("diff_config: nothing for an identical configuration", "[diff]") {
    auto c = test::every_feature();
    auto changes = model::diff_config(c, c);
    REQUIRE(changes.has_value());
    CHECK(changes->empty());
}

TEST_CASE("diff_config: one weight changed is one edit-real", "[diff]") {
    auto from = test::nat_lab();
    auto to = from;
    to.services[0].reals[1].weight = 5;
    auto changes = model::diff_config(from, to);
    REQUIRE(changes.has_value());
    REQUIRE(changes->size() == 1);
    CHECK(std::holds_alternative<model::EditReal>((*changes)[0]));
    reaches(from, to);
}

TEST_CASE("diff_config: services and real servers added, removed, edited", "[diff]") {
    auto from = test::every_feature();
    auto to = from;
    to.services.erase(to.services.begin());              // a service removed
    to.services[0].scheduler = Scheduler::rr;             // attributes edited
    to.services[0].mh_table_size = 65537;
    to.services[0].sched_flags = 0;
    to.services[0].reals.pop_back();                      // a real removed
    RealServer r;
    r.address = ip("10.1.1.9");
    r.port = 443;
    r.forward = ForwardMethod::fullnat;
    to.services[0].reals.push_back(r);                    // a real added
    to.services[0].local_addresses = {ip("192.168.100.201"), ip("192.168.100.202")};
    Service fresh;
    fresh.key = {Protocol::tcp, ip("10.0.0.77"), 8080};
    fresh.reals = {r};
    fresh.reals[0].forward = ForwardMethod::nat;
    to.services.push_back(fresh);                         // a service added
    to.timeouts.tcp = 901;
    reaches(from, to);
}

TEST_CASE("diff_config: port groups that differ are not a diff", "[diff]") {
    auto from = test::every_feature();
    auto to = from;
    to.port_groups.pop_back();
    CHECK(!model::diff_config(from, to).has_value());
}
