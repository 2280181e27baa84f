// SnapshotBuilder's incremental build: a batch that touches one service rebuilds exactly that
// one, the result equals a full build of the same configuration, lblc/lblcr caches survive an
// edit, a timeouts-only change rebuilds no scheduler table, and the dataplane checks (NAT
// owner rule) run for the touched services.
#include <map>

#include "catch_print.hpp"
#include "dataplane/config/snapshot_builder.hpp"
#include "dataplane/sched/scheduler.hpp"
#include "test_config.hpp"

using namespace dplb;
using namespace dplb::test;
using config::ForwardMethod;
using config::Protocol;
using config::Scheduler;

namespace {

std::vector<PortSnap> ports() { return {port_with(0x10, {"192.0.2.1/24"}), port_with(0x11, {"10.0.0.1/16"})}; }

config::Config many(unsigned n, Scheduler sched = Scheduler::rr) {
    config::Config c;
    for (unsigned i = 0; i < n; ++i) {
        std::string vip = "192.0.2." + std::to_string(10 + i);
        std::vector<config::RealServer> reals;
        for (unsigned r = 0; r < 3; ++r) {
            std::string ra = "10.0." + std::to_string(i) + "." + std::to_string(r + 1);
            reals.push_back(real(ra.c_str(), 8080, ForwardMethod::nat));
        }
        c.services.push_back(service(Protocol::tcp, vip.c_str(), 80, sched, reals));
    }
    return c;
}

const config::Service* find_in(const config::Config& c, const config::ServiceKey& k) {
    for (const auto& s : c.services)
        if (s.key == k) return &s;
    return nullptr;
}

struct Fx {
    Fx() : laddrs(2, 1024, 65535), builder(2, ports(), {}, laddrs) {}
    std::unique_ptr<Snapshot> full(const config::Config& c) {
        auto r = builder.build(c, ++gen);
        if (!r) FAIL(r.error().str());
        return std::move(*r);
    }
    model::Result<std::unique_ptr<Snapshot>> delta(const config::Config& c, const model::Touched& t) {
        return builder.build(c, t, ++gen, [&c](const config::ServiceKey& k) { return find_in(c, k); });
    }
    std::unique_ptr<Snapshot> ok(const config::Config& c, const model::Touched& t) {
        auto r = delta(c, t);
        if (!r) FAIL(r.error().str());
        return std::move(*r);
    }
    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    uint64_t gen = 0;
};

model::Touched touching(std::vector<config::ServiceKey> keys) {
    model::Touched t;
    t.services = std::move(keys);
    return t;
}

template <class V>
std::map<uint64_t, V> contents(const FlatMap<V>& m) {
    std::map<uint64_t, V> out;
    m.for_each([&](uint64_t k, const V& v) { out[k] = v; });
    return out;
}

// What a packet can observe of a snapshot, services by value.
void same_lookups(const Snapshot& a, const Snapshot& b) {
    auto sa = contents(a.services), sb = contents(b.services);
    REQUIRE(sa.size() == sb.size());
    for (const auto& [k, s] : sa) {
        INFO("service key " << k);
        REQUIRE(sb.count(k));
        const ServiceSnap& t = *sb[k];
        CHECK(s->id == t.id);
        REQUIRE(s->reals.size() == t.reals.size());
        for (size_t i = 0; i < s->reals.size(); ++i) {
            CHECK(s->reals[i].addr == t.reals[i].addr);
            CHECK(s->reals[i].weight == t.reals[i].weight);
            CHECK(s->reals[i].id == t.reals[i].id);
        }
        CHECK(a.service_timeouts[s->id] == b.service_timeouts[t.id]);
    }
    auto na = contents(a.nat_reals), nb = contents(b.nat_reals);
    CHECK(na.size() == nb.size());
    for (const auto& [k, o] : na) {
        REQUIRE(nb.count(k));
        CHECK(nb[k].persistent == o.persistent);
    }
    auto la = contents(a.local_addresses), lb = contents(b.local_addresses);
    REQUIRE(la.size() == lb.size());
    for (const auto& [k, i] : la) {
        REQUIRE(lb.count(k));
        CHECK(lb[k].kinds == i.kinds);
        CHECK(lb[k].arp_ports == i.arp_ports);
    }
    CHECK(contents(a.draining_services).size() == contents(b.draining_services).size());
    CHECK(a.service_list.size() == b.service_list.size());
}

}  // namespace

TEST_CASE("Incremental build: one touched service rebuilds exactly one, the others are shared", "[snapshot][delta]") {
    Fx fx;
    config::Config c = many(50);
    auto s1 = fx.full(c);
    CHECK(fx.builder.last_rebuilt() == 50);
    const uint64_t before = fx.builder.total_rebuilt();

    c.services[7].reals[1].weight = 9;
    auto s2 = fx.ok(c, touching({c.services[7].key}));
    CHECK(fx.builder.last_rebuilt() == 1);
    CHECK(fx.builder.total_rebuilt() == before + 1);
    for (size_t i = 0; i < c.services.size(); ++i) {
        const auto& k = c.services[i].key;
        const ServiceSnap* a = s1->find_service(6, k.address.be, be16(80));
        const ServiceSnap* b = s2->find_service(6, k.address.be, be16(80));
        REQUIRE(a);
        REQUIRE(b);
        if (i == 7) {
            CHECK(a != b);
            CHECK(b->reals[1].weight == 9);
            CHECK(b->id == a->id);
        } else {
            CHECK(a == b);
        }
    }
    // A weight change moves no NAT owner and no local address: those maps are shared.
    CHECK(s2->nat_reals.size() == s1->nat_reals.size());

    // A touched key whose configuration did not change rebuilds nothing.
    fx.ok(c, touching({c.services[3].key, c.services[3].key}));
    CHECK(fx.builder.last_rebuilt() == 0);
}

TEST_CASE("Incremental build: the same snapshot as a full build, through adds, edits and deletes",
          "[snapshot][delta]") {
    Fx inc, ref;
    config::Config c = many(6);
    inc.full(c);
    ref.full(c);

    struct Step {
        const char* what;
        std::function<std::vector<config::ServiceKey>(config::Config&)> edit;
    };
    const Step steps[] = {
        {"add a service with a local address",
         [](config::Config& k) {
             k.services.push_back(service(Protocol::udp, "192.0.2.99", 53, Scheduler::wrr,
                                          {real("10.0.9.1", 53), real("10.0.9.2", 53, ForwardMethod::fullnat, 3)},
                                          {"10.0.0.200"}));
             return std::vector<config::ServiceKey>{k.services.back().key};
         }},
        {"add a real server",
         [](config::Config& k) {
             k.services[2].reals.push_back(real("10.0.2.9", 8080, ForwardMethod::nat));
             return std::vector<config::ServiceKey>{k.services[2].key};
         }},
        {"delete a real server and make a service persistent",
         [](config::Config& k) {
             k.services[1].reals.erase(k.services[1].reals.begin());
             k.services[4] = persistent(k.services[4], 600, "255.255.255.0");
             return std::vector<config::ServiceKey>{k.services[1].key, k.services[4].key};
         }},
        {"per-service timeouts",
         [](config::Config& k) {
             k.services[0].timeouts.tcp = 42;
             return std::vector<config::ServiceKey>{k.services[0].key};
         }},
        {"delete a service (the last takes its place)",
         [](config::Config& k) {
             auto key = k.services[3].key;
             k.services[3] = k.services.back();
             k.services.pop_back();
             return std::vector<config::ServiceKey>{key};
         }},
    };
    for (const auto& st : steps) {
        INFO(st.what);
        auto keys = st.edit(c);
        auto a = inc.ok(c, touching(keys));
        auto b = ref.full(c);
        same_lookups(*a, *b);
    }
}

TEST_CASE("Incremental build: lblc/lblcr destination caches survive an edit of their service",
          "[snapshot][delta][lblc]") {
    for (Scheduler sched : {Scheduler::lblc, Scheduler::lblcr}) {
        INFO(config::to_string(sched));
        Fx fx;
        config::Config c = many(2, sched);
        auto s1 = fx.full(c);
        const ServiceSnap* a = s1->find_service(6, c.services[0].key.address.be, be16(80));
        REQUIRE(a);
        REQUIRE(a->sched_scratch.size() == 2);
        const void* cache0 = sched == Scheduler::lblc ? static_cast<const void*>(a->sched_scratch[0]->lblc.get())
                                                      : static_cast<const void*>(a->sched_scratch[0]->lblcr.get());
        REQUIRE(cache0);

        c.services[0].reals[2].weight = 5;  // IPVS keeps the table on an edit
        for (bool incremental : {true, false}) {
            INFO((incremental ? "incremental" : "full") << " build");
            auto s2 = incremental ? fx.ok(c, touching({c.services[0].key})) : fx.full(c);
            const ServiceSnap* b = s2->find_service(6, c.services[0].key.address.be, be16(80));
            REQUIRE(b);
            REQUIRE(b->sched_scratch.size() == 2);
            const void* cache1 = sched == Scheduler::lblc ? static_cast<const void*>(b->sched_scratch[0]->lblc.get())
                                                          : static_cast<const void*>(b->sched_scratch[0]->lblcr.get());
            CHECK(cache1 == cache0);
            c.services[0].reals[2].weight += 1;
        }
    }
}

TEST_CASE("Incremental build: global timeouts rebuild no service and no scheduler table", "[snapshot][delta]") {
    Fx fx;
    config::Config c = many(4, Scheduler::mh);
    c.services[1].timeouts.tcp = 77;  // an override the new global value must not replace
    auto s1 = fx.full(c);
    const ServiceSnap* a0 = s1->find_service(6, c.services[0].key.address.be, be16(80));
    const ServiceSnap* a1 = s1->find_service(6, c.services[1].key.address.be, be16(80));
    REQUIRE(a0);
    REQUIRE(a1);
    const uint16_t* table0 = a0->sched.mh_lookup.data();
    const uint64_t tables = fx.builder.tables_built();

    c.timeouts.tcp = 1234;
    c.timeouts.udp = 55;
    model::Touched t;
    t.timeouts = true;
    auto s2 = fx.ok(c, t);
    CHECK(fx.builder.last_rebuilt() == 0);
    CHECK(fx.builder.tables_built() == tables);
    const ServiceSnap* b0 = s2->find_service(6, c.services[0].key.address.be, be16(80));
    CHECK(b0 == a0);
    CHECK(b0->sched.mh_lookup.data() == table0);
    CHECK(s2->timeout(a0->id, SessionState::tcp_established) == 1234000);
    CHECK(s2->timeout(a0->id, SessionState::udp) == 55000);
    CHECK(s2->timeout(a1->id, SessionState::tcp_established) == 77000);
    CHECK(s2->timeout(a1->id, SessionState::udp) == 55000);
    CHECK(s2->timeout(a0->id, SessionState::tcp_time_wait) == s1->timeout(a0->id, SessionState::tcp_time_wait));
    // The previous snapshot keeps the values it was built with.
    CHECK(s1->timeout(a0->id, SessionState::tcp_established) == 900000);

    // A full build of the same change compares timeouts the same way.
    c.timeouts.tcp = 99;
    auto s3 = fx.full(c);
    CHECK(fx.builder.last_rebuilt() == 0);
    CHECK(fx.builder.tables_built() == tables);
    CHECK(s3->timeout(a0->id, SessionState::tcp_established) == 99000);
}

TEST_CASE("Incremental build: one service's timeout overrides rebuild no service and no table", "[snapshot][delta]") {
    Fx fx;
    config::Config c = many(3, Scheduler::mh);
    auto s1 = fx.full(c);
    const ServiceSnap* a1 = s1->find_service(6, c.services[1].key.address.be, be16(80));
    REQUIRE(a1);
    const uint64_t tables = fx.builder.tables_built();
    c.services[1].timeouts.tcp = 42;
    c.services[1].timeouts.udp = 7;
    model::Touched t;
    t.services.push_back(c.services[1].key);
    auto s2 = fx.ok(c, t);
    CHECK(fx.builder.last_rebuilt() == 0);
    CHECK(fx.builder.tables_built() == tables);
    CHECK(s2->find_service(6, c.services[1].key.address.be, be16(80)) == a1);
    CHECK(s2->timeout(a1->id, SessionState::tcp_established) == 42000);
    CHECK(s2->timeout(a1->id, SessionState::udp) == 7000);
    // A change of timeouts and something else rebuilds, with the new timeouts.
    c.services[1].timeouts.tcp = 43;
    c.services[1].reals[0].weight = 5;
    auto s3 = fx.ok(c, t);
    CHECK(fx.builder.last_rebuilt() == 1);
    const ServiceSnap* b1 = s3->find_service(6, c.services[1].key.address.be, be16(80));
    CHECK(b1 != a1);
    CHECK(s3->timeout(b1->id, SessionState::tcp_established) == 43000);
}

TEST_CASE("Incremental build: the NAT owner rule is checked for touched services, nothing changes on failure",
          "[snapshot][delta]") {
    Fx fx;
    config::Config c = many(3);
    auto s1 = fx.full(c);
    const ServiceSnap* a2 = s1->find_service(6, c.services[2].key.address.be, be16(80));
    // Service 2 takes service 0's NAT real server while being persistent: its replies could
    // not be matched to one worker.
    config::Config bad = c;
    bad.services[2] = persistent(bad.services[2]);
    bad.services[2].reals.push_back(c.services[0].reals[0]);
    auto r = fx.delta(bad, touching({bad.services[2].key}));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("different persistence") != std::string::npos);
    CHECK(r.error().field == "services[tcp 192.0.2.12:80].real_servers[3]");
    // Removing service 0 in the same batch makes it acceptable.
    bad.services.erase(bad.services.begin());
    auto ok = fx.ok(bad, touching({c.services[0].key, c.services[2].key}));
    CHECK(fx.builder.last_rebuilt() == 1);
    // The failed attempt changed nothing: the untouched service 1 is still the same object.
    CHECK(ok->find_service(6, c.services[1].key.address.be, be16(80)) ==
          s1->find_service(6, c.services[1].key.address.be, be16(80)));
    CHECK(ok->find_service(6, c.services[2].key.address.be, be16(80))->id == a2->id);
    // The removed service drains.
    CHECK(ok->draining_services.find(service_lookup_key(6, c.services[0].key.address.be, be16(80))));
    CHECK(ok->find_local(c.services[0].key.address.be));
}

TEST_CASE("Incremental build: port-group changes move mark services' keys without rebuilding them",
          "[snapshot][delta]") {
    Fx fx;
    config::Config c;
    c.port_groups = {port_group(5, {match(Protocol::tcp, "192.0.2.50", 80, 81)})};
    c.services = {mark_service(5, Scheduler::rr, {real("10.0.0.5", 0, ForwardMethod::nat)})};
    auto s1 = fx.full(c);
    const ServiceSnap* m = s1->find_service(6, ip("192.0.2.50"), be16(80));
    REQUIRE(m);
    c.port_groups[0].matches.push_back(match(Protocol::udp, "192.0.2.51", 53, 53));
    model::Touched t;
    t.port_groups = true;
    auto s2 = fx.ok(c, t);
    CHECK(fx.builder.last_rebuilt() == 0);
    CHECK(s2->find_service(17, ip("192.0.2.51"), be16(53)) == m);
    CHECK(s2->find_service(6, ip("192.0.2.50"), be16(81)) == m);
    CHECK(s2->find_local(ip("192.0.2.51")));
    CHECK(s2->nat_reals.find(service_lookup_key(17, ip("10.0.0.5"), 0)));
}
