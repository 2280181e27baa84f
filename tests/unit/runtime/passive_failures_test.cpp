// `passive-failures` without EAL: which real servers are reported and under which names
// (runtime/passive_failures.hpp), and the reply's JSON both ways (codec/stats_json.hpp).
#include <catch2/catch.hpp>

#include <map>

#include "codec/stats_json.hpp"
#include "dataplane/runtime/passive_failures.hpp"

using namespace dplb;
using nlohmann::json;

namespace {

config::RealServer real(const char* address, uint16_t port) {
    config::RealServer r;
    r.address = *Ip4::parse(address);
    r.port = port;
    r.forward = config::ForwardMethod::nat;
    return r;
}

config::Service service(const char* vip, uint16_t port, std::vector<config::RealServer> reals) {
    config::Service s;
    s.key = config::ServiceKey{config::Protocol::tcp, *Ip4::parse(vip), port};
    s.scheduler = config::Scheduler::rr;
    s.reals = std::move(reals);
    return s;
}

struct Fx {
    Fx() : laddrs(1, 1024, 65535), builder(1, {port()}, SnapshotLimits{16, 64}, laddrs) {}
    static PortSnap port() {
        PortSnap p{};
        p.addresses.push_back(*Ip4Prefix::parse("10.0.0.1/8"));
        return p;
    }
    // Builds `c` as the control thread does before publishing it.
    void build(const config::Config& c) {
        auto r = builder.build(c, ++generation);
        REQUIRE(r);
        snap = std::move(*r);
        departed.update(builder);
    }
    uint32_t id_of(const char* vip, uint16_t port, const char* rip) const {
        const ServiceSnap* s = snap->find_service(6, Ip4::parse(vip)->be, __builtin_bswap16(port));
        REQUIRE(s);
        for (const auto& r : s->reals)
            if (r.addr == Ip4::parse(rip)->be) return r.id;
        FAIL("no such real server");
        return 0;
    }
    std::vector<model::PassiveFailures> collect() const {
        return runtime::collect_passive_failures(*snap, departed, [this](uint32_t id) {
            auto it = counts.find(id);
            return it == counts.end() ? runtime::PassiveCounts{} : it->second;
        });
    }

    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    std::unique_ptr<Snapshot> snap;
    runtime::DepartedReals departed;
    uint64_t generation = 0;
    std::map<uint32_t, runtime::PassiveCounts> counts;  // what the workers counted, by id
};

model::PassiveFailures entry(const char* vip, uint16_t vport, const char* rip, uint16_t port, uint64_t syn,
                             uint64_t rst) {
    return {config::ServiceKey{config::Protocol::tcp, *Ip4::parse(vip), vport}, *Ip4::parse(rip), port, syn, rst};
}

}  // namespace

TEST_CASE("passive-failures: only real servers with a count, named by the snapshot", "[passive]") {
    Fx fx;
    config::Config c;
    c.services = {service("192.0.2.1", 80, {real("10.0.0.2", 80), real("10.0.0.3", 80)}),
                  service("192.0.2.1", 443, {real("10.0.0.2", 443)})};
    fx.build(c);
    CHECK(fx.collect().empty());
    fx.counts[fx.id_of("192.0.2.1", 80, "10.0.0.3")] = {3, 0};
    fx.counts[fx.id_of("192.0.2.1", 443, "10.0.0.2")] = {0, 2};
    auto got = fx.collect();
    REQUIRE(got.size() == 2);
    CHECK(got[0] == entry("192.0.2.1", 80, "10.0.0.3", 80, 3, 0));
    CHECK(got[1] == entry("192.0.2.1", 443, "10.0.0.2", 443, 0, 2));
}

TEST_CASE("passive-failures: a removed real server is still named while its id is kept", "[passive]") {
    Fx fx;
    config::Config c;
    c.services = {service("192.0.2.1", 80, {real("10.0.0.2", 80), real("10.0.0.3", 80)})};
    fx.build(c);
    const uint32_t old_id = fx.id_of("192.0.2.1", 80, "10.0.0.2");
    fx.counts[old_id] = {5, 1};
    config::Config removed = c;
    removed.services[0].reals.erase(removed.services[0].reals.begin());
    fx.build(removed);
    auto got = fx.collect();
    REQUIRE(got.size() == 1);
    CHECK(got[0] == entry("192.0.2.1", 80, "10.0.0.2", 80, 5, 1));

    SECTION("added back under a new id: the two ids' counts add up under the one name") {
        fx.build(c);
        const uint32_t new_id = fx.id_of("192.0.2.1", 80, "10.0.0.2");
        REQUIRE(new_id != old_id);
        fx.counts[new_id] = {1, 0};
        got = fx.collect();
        REQUIRE(got.size() == 1);
        CHECK(got[0] == entry("192.0.2.1", 80, "10.0.0.2", 80, 6, 1));
    }
    SECTION("its whole service removed too") {
        fx.build(config::Config{});
        got = fx.collect();
        REQUIRE(got.size() == 1);
        CHECK(got[0] == entry("192.0.2.1", 80, "10.0.0.2", 80, 5, 1));
    }
    SECTION("once its id is handed to another server, it is forgotten") {
        fx.counts.erase(old_id);  // what the baseline of a recycled id does to its counts
        fx.builder.collect([](uint32_t) { return false; }, [](uint32_t) { return false; });
        config::Config more = removed;
        more.services[0].reals.push_back(real("10.0.1.1", 80));  // freed ids are taken first
        fx.build(more);
        bool reused = false;
        for (uint32_t id : fx.builder.recycled_real_ids()) reused |= id == old_id;
        REQUIRE(reused);
        CHECK(fx.departed.by_id().count(old_id) == 0);
        CHECK(fx.collect().empty());
    }
}

TEST_CASE("passive-failures: a server the health check took out is still reported, under its id", "[passive]") {
    Fx fx;
    config::Config c;
    c.services = {service("192.0.2.1", 80, {real("10.0.0.2", 80), real("10.0.0.3", 80)})};
    fx.build(c);
    const uint32_t id = fx.id_of("192.0.2.1", 80, "10.0.0.2");
    fx.counts[id] = {2, 0};
    c.services[0].reals[0].health = config::RealHealth::removed;
    fx.build(c);
    fx.counts[id] = {3, 1};  // a SYN session of before the removal expired meanwhile
    auto got = fx.collect();
    REQUIRE(got.size() == 1);
    CHECK(got[0] == entry("192.0.2.1", 80, "10.0.0.2", 80, 3, 1));
}

TEST_CASE("passive-failures reply JSON: encoded as docs/api.md says, decoded back", "[passive]") {
    std::vector<model::PassiveFailures> v = {entry("192.0.2.1", 80, "10.0.0.2", 80, 3, 1)};
    model::PassiveFailures mark;
    mark.service.fwmark = 7;
    mark.address = *Ip4::parse("10.0.0.9");
    mark.port = 0;
    mark.syn_timeouts = 1;
    v.push_back(mark);
    json j = model::passive_failures_reply_to_json(v);
    CHECK(j == json::parse(R"({"ok":true,"reals":[
        {"service":{"protocol":"tcp","address":"192.0.2.1","port":80},"address":"10.0.0.2","port":80,
         "syn_timeouts":3,"resets":1},
        {"service":{"fwmark":7},"address":"10.0.0.9","port":0,"syn_timeouts":1,"resets":0}]})"));
    auto back = model::passive_failures_reply_from_json(j);
    REQUIRE(back);
    CHECK(*back == v);
    CHECK(model::passive_failures_reply_from_json(json::parse(R"({"ok":true,"reals":[]})"))->empty());
    CHECK_FALSE(model::passive_failures_reply_from_json(json::parse(R"({"ok":true,"reals":[{"address":"1.2.3.4"}]})")));
}
