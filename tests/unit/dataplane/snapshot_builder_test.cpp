// SnapshotBuilder: lookup maps, ARP port masks, stable ids and shared unchanged services,
// limits (all or nothing), quarantine of removed ids, timeouts.
#include <set>

#include "catch_print.hpp"
#include "dataplane/config/snapshot_builder.hpp"
#include "dataplane/session/tcp_state.hpp"
#include "test_config.hpp"

using namespace dplb;
using namespace dplb::test;
using config::ForwardMethod;
using config::Protocol;
using config::Scheduler;

namespace {

std::vector<PortSnap> three_ports() {
    return {port_with(0x10, {"192.0.2.1/24"}), port_with(0x11, {"10.0.0.1/24", "10.1.0.1/16"}),
            port_with(0x12, {"10.1.2.1/24"})};
}

config::Config base_config() {
    config::Config c;
    c.services = {
        service(Protocol::tcp, "192.0.2.100", 80, Scheduler::rr,
                {real("10.0.0.11", 8080), real("10.0.0.12", 8080, ForwardMethod::fullnat, 3)}, {"10.0.0.200"}),
        service(Protocol::tcp, "192.0.2.100", 443, Scheduler::wrr,
                {real("10.0.0.21", 443, ForwardMethod::nat, 4), real("10.0.0.22", 443, ForwardMethod::nat, 2)}),
        service(Protocol::udp, "192.0.2.100", 53, Scheduler::rr, {real("10.0.0.31", 5353)}, {"10.0.0.200", "10.0.0.201"}),
    };
    return c;
}

struct Fixture {
    explicit Fixture(SnapshotLimits limits = {}, uint16_t first_port = 1024, uint16_t last_port = 65535)
        : laddrs(2, first_port, last_port), builder(2, three_ports(), limits, laddrs) {}

    std::unique_ptr<Snapshot> build(const config::Config& c, uint64_t generation = 1) {
        auto r = builder.build(c, generation);
        if (!r) FAIL("build failed: " << r.error().str());
        return std::move(*r);
    }
    void collect_idle() {
        builder.collect([](uint32_t) { return false; }, [](uint32_t) { return false; });
    }
    void collect_busy() {
        builder.collect([](uint32_t) { return true; }, [](uint32_t) { return true; });
    }

    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
};

const ServiceSnap& find(const Snapshot& s, uint8_t proto, const char* vip, uint16_t port) {
    const ServiceSnap* p = s.find_service(proto, ip(vip), be16(port));
    REQUIRE(p);
    return *p;
}

std::vector<uint32_t> real_ids(const ServiceSnap& s) {
    std::vector<uint32_t> ids;
    for (const auto& r : s.reals) ids.push_back(r.id);
    return ids;
}

}  // namespace

TEST_CASE("SnapshotBuilder: services, real servers and local addresses in the lookup maps", "[snapshot]") {
    Fixture fx;
    auto snap = fx.build(base_config(), 42);
    CHECK(snap->generation == 42);
    CHECK(snap->nworkers == 2);
    REQUIRE(snap->ports.size() == 3);
    CHECK(snap->ports[1].mac == mac(0x11));
    CHECK(snap->ports[1].addresses.size() == 2);
    CHECK(snap->services.size() == 3);
    CHECK(snap->service_list.size() == 3);

    const ServiceSnap& web = find(*snap, 6, "192.0.2.100", 80);
    CHECK(web.proto == 6);
    CHECK(web.vip == ip("192.0.2.100"));
    CHECK(web.vport == be16(80));
    CHECK(web.scheduler == Scheduler::rr);
    REQUIRE(web.reals.size() == 2);
    CHECK(web.reals[0].addr == ip("10.0.0.11"));
    CHECK(web.reals[0].port == be16(8080));
    CHECK(web.reals[0].mode == ForwardMode::fullnat);
    CHECK(web.reals[0].weight == 1);
    CHECK(web.reals[1].addr == ip("10.0.0.12"));
    CHECK(web.reals[1].weight == 3);
    REQUIRE(web.laddr_ids.size() == 1);
    REQUIRE(fx.laddrs.entry(web.laddr_ids[0]));
    CHECK(fx.laddrs.entry(web.laddr_ids[0])->address() == ip("10.0.0.200"));

    const ServiceSnap& tls = find(*snap, 6, "192.0.2.100", 443);
    CHECK(tls.scheduler == Scheduler::wrr);
    CHECK(tls.reals[0].mode == ForwardMode::nat);
    CHECK(tls.sched.wrr_di == 2);  // prepare_scheduler ran
    CHECK(tls.sched.wrr_mw == 3);
    CHECK(tls.laddr_ids.empty());

    const ServiceSnap& dns = find(*snap, 17, "192.0.2.100", 53);
    REQUIRE(dns.laddr_ids.size() == 2);
    CHECK(dns.laddr_ids[0] == web.laddr_ids[0]);  // one id per address, shared by services
    CHECK(fx.laddrs.entry(dns.laddr_ids[1])->address() == ip("10.0.0.201"));
    CHECK(fx.laddrs.size() == 2);

    // Every id is distinct.
    std::set<uint32_t> svc_ids = {web.id, tls.id, dns.id};
    CHECK(svc_ids.size() == 3);
    std::set<uint32_t> rids;
    for (const auto* s : {&web, &tls, &dns})
        for (uint32_t id : real_ids(*s)) rids.insert(id);
    CHECK(rids.size() == 5);

    // Misses: other port, other protocol, other address.
    CHECK(snap->find_service(17, ip("192.0.2.100"), be16(80)) == nullptr);
    CHECK(snap->find_service(6, ip("192.0.2.100"), be16(81)) == nullptr);
    CHECK(snap->find_service(6, ip("192.0.2.101"), be16(80)) == nullptr);
    CHECK(snap->find_service(6, ip("192.0.2.100"), 80) == nullptr);  // host-order port is not the key

    // NAT reals only, by (proto, rip, rport).
    CHECK(snap->nat_reals.size() == 2);
    CHECK(snap->nat_reals.find(service_lookup_key(6, ip("10.0.0.21"), be16(443))));
    CHECK(snap->nat_reals.find(service_lookup_key(6, ip("10.0.0.22"), be16(443))));
    CHECK_FALSE(snap->nat_reals.find(service_lookup_key(17, ip("10.0.0.21"), be16(443))));
    CHECK_FALSE(snap->nat_reals.find(service_lookup_key(6, ip("10.0.0.11"), be16(8080))));

    // Local addresses and their kinds.
    struct Local {
        const char* a;
        uint8_t kinds;
    };
    const Local locals[] = {{"192.0.2.100", local_vip}, {"10.0.0.200", local_snat}, {"10.0.0.201", local_snat},
                            {"192.0.2.1", local_interface}, {"10.0.0.1", local_interface},
                            {"10.1.0.1", local_interface}, {"10.1.2.1", local_interface}};
    for (const auto& l : locals) {
        INFO(l.a);
        const LocalAddressInfo* info = snap->find_local(ip(l.a));
        REQUIRE(info);
        CHECK(info->kinds == l.kinds);
    }
    CHECK(snap->local_addresses.size() == std::size(locals));
    CHECK(snap->find_local(ip("10.0.0.11")) == nullptr);  // real servers are not ours
    CHECK(snap->find_local(ip("192.0.2.2")) == nullptr);
}

TEST_CASE("SnapshotBuilder: ARP port masks", "[snapshot]") {
    Fixture fx;
    config::Config c;
    c.services = {
        service(Protocol::tcp, "192.0.2.100", 80, Scheduler::rr, {real("10.0.0.11", 80)}, {"10.0.0.200", "10.1.2.9"}),
        service(Protocol::tcp, "203.0.113.5", 80, Scheduler::rr, {real("10.0.0.11", 80)}, {"10.0.0.200"}),
        service(Protocol::tcp, "10.0.0.1", 8080, Scheduler::rr, {real("10.0.0.11", 80)}, {"10.0.0.200"}),
        service(Protocol::udp, "192.0.2.100", 53, Scheduler::rr, {real("10.0.0.11", 53)}, {"10.0.0.200"}),
    };
    auto snap = fx.build(c);
    struct Want {
        const char* a;
        uint8_t kinds;
        uint32_t ports;
    };
    const Want wants[] = {
        {"192.0.2.100", local_vip, 0b001},               // in port 0's 192.0.2.0/24
        {"10.0.0.200", local_snat, 0b010},                // in port 1's 10.0.0.0/24
        {"10.1.2.9", local_snat, 0b110},                  // in port 1's /16 and port 2's /24
        {"203.0.113.5", local_vip, 0b111},                // on no connected network: every port
        {"10.0.0.1", local_interface | local_vip, 0b010}, // an interface address that is also a VIP
        {"192.0.2.1", local_interface, 0b001},
        {"10.1.0.1", local_interface, 0b010},
        {"10.1.2.1", local_interface, 0b100},
    };
    for (const auto& w : wants) {
        INFO(w.a);
        const LocalAddressInfo* info = snap->find_local(ip(w.a));
        REQUIRE(info);
        CHECK(info->kinds == w.kinds);
        CHECK(info->arp_ports == w.ports);
    }
}

TEST_CASE("SnapshotBuilder: an address that is both VIP and local address", "[snapshot]") {
    Fixture fx;
    config::Config c;
    c.services = {service(Protocol::tcp, "10.0.0.200", 80, Scheduler::rr, {real("10.0.0.11", 80)}, {"10.0.0.200"})};
    auto snap = fx.build(c);
    const LocalAddressInfo* info = snap->find_local(ip("10.0.0.200"));
    REQUIRE(info);
    CHECK(info->kinds == (local_vip | local_snat));
    CHECK(info->arp_ports == 0b010);
}

TEST_CASE("SnapshotBuilder: stable ids; unchanged services are shared, changed ones get a new version",
          "[snapshot]") {
    Fixture fx;
    config::Config c1 = base_config();
    auto s1 = fx.build(c1, 1);
    const ServiceSnap* web1 = &find(*s1, 6, "192.0.2.100", 80);
    const ServiceSnap* tls1 = &find(*s1, 6, "192.0.2.100", 443);
    const ServiceSnap* dns1 = &find(*s1, 17, "192.0.2.100", 53);

    // Same config again: every service is the same object.
    auto s2 = fx.build(c1, 2);
    CHECK(&find(*s2, 6, "192.0.2.100", 80) == web1);
    CHECK(&find(*s2, 6, "192.0.2.100", 443) == tls1);
    CHECK(&find(*s2, 17, "192.0.2.100", 53) == dns1);
    CHECK(fx.builder.recycled_real_ids().empty());
    CHECK(fx.builder.recycled_service_ids().empty());

    // Change a weight in one service, add a real to another, add a service; reorder services.
    config::Config c3 = c1;
    c3.services[1].reals[1].weight = 5;
    c3.services[2].reals.push_back(real("10.0.0.32", 5353));
    c3.services.push_back(service(Protocol::tcp, "192.0.2.101", 80, Scheduler::rr, {real("10.0.0.11", 8080)},
                                  {"10.0.0.200"}));
    std::swap(c3.services[0], c3.services[1]);
    auto s3 = fx.build(c3, 3);
    const ServiceSnap& web3 = find(*s3, 6, "192.0.2.100", 80);
    const ServiceSnap& tls3 = find(*s3, 6, "192.0.2.100", 443);
    const ServiceSnap& dns3 = find(*s3, 17, "192.0.2.100", 53);
    const ServiceSnap& new3 = find(*s3, 6, "192.0.2.101", 80);
    CHECK(&web3 == web1);
    CHECK(&tls3 != tls1);
    CHECK(tls3.id == tls1->id);
    CHECK(tls3.version > tls1->version);
    CHECK(tls3.reals[1].weight == 5);
    CHECK(real_ids(tls3) == real_ids(*tls1));
    CHECK(&dns3 != dns1);
    CHECK(dns3.id == dns1->id);
    CHECK(dns3.version > dns1->version);
    REQUIRE(dns3.reals.size() == 2);
    CHECK(dns3.reals[0].id == dns1->reals[0].id);
    // New objects get ids nobody holds; the same real address under another service is
    // another real server with its own id.
    std::set<uint32_t> old_svc = {web1->id, tls1->id, dns1->id};
    CHECK(old_svc.count(new3.id) == 0);
    std::set<uint32_t> old_reals;
    for (const auto* s : {web1, tls1, dns1})
        for (uint32_t id : real_ids(*s)) old_reals.insert(id);
    CHECK(old_reals.count(dns3.reals[1].id) == 0);
    CHECK(old_reals.count(new3.reals[0].id) == 0);
    CHECK(new3.reals[0].id != dns3.reals[1].id);
    CHECK(fx.builder.recycled_real_ids().empty());
    CHECK(fx.builder.recycled_service_ids().empty());
    // Versions are all distinct.
    std::set<uint64_t> versions = {web3.version, tls3.version, dns3.version, new3.version};
    CHECK(versions.size() == 4);
}

TEST_CASE("SnapshotBuilder: removed ids are quarantined until collect() finds them idle", "[snapshot]") {
    Fixture fx;
    config::Config c1 = base_config();
    auto s1 = fx.build(c1);
    const uint32_t web_id = find(*s1, 6, "192.0.2.100", 80).id;
    const std::vector<uint32_t> web_reals = real_ids(find(*s1, 6, "192.0.2.100", 80));

    config::Config c2 = c1;
    c2.services.erase(c2.services.begin());  // web removed
    auto s2 = fx.build(c2);
    CHECK(s2->find_service(6, ip("192.0.2.100"), be16(80)) == nullptr);

    auto add_service = [&](config::Config& c, const char* vip) {
        c.services.push_back(service(Protocol::tcp, vip, 80, Scheduler::rr,
                                     {real("10.0.0.51", 80), real("10.0.0.52", 80)}, {"10.0.0.200"}));
    };
    auto ids_after_adding = [&](const char* vip, config::Config& c) {
        add_service(c, vip);
        auto s = fx.build(c);
        const ServiceSnap& n = find(*s, 6, vip, 80);
        return std::make_pair(n.id, real_ids(n));
    };
    auto not_reused = [&](const std::pair<uint32_t, std::vector<uint32_t>>& got) {
        CHECK(got.first != web_id);
        for (uint32_t r : got.second) CHECK(std::find(web_reals.begin(), web_reals.end(), r) == web_reals.end());
    };

    // Not collected yet: a new service does not get the removed ids.
    not_reused(ids_after_adding("192.0.2.110", c2));
    // Collected while sessions still use them: still not reused.
    fx.collect_busy();
    not_reused(ids_after_adding("192.0.2.111", c2));
    // Idle: reused, and reported as recycled.
    fx.collect_idle();
    auto got = ids_after_adding("192.0.2.112", c2);
    CHECK(got.first == web_id);
    std::set<uint32_t> want_reals(web_reals.begin(), web_reals.end());
    CHECK(std::set<uint32_t>(got.second.begin(), got.second.end()) == want_reals);
    CHECK(fx.builder.recycled_service_ids() == std::vector<uint32_t>{web_id});
    auto recycled = fx.builder.recycled_real_ids();
    CHECK(std::set<uint32_t>(recycled.begin(), recycled.end()) == want_reals);
}

TEST_CASE("SnapshotBuilder: the busy predicates are asked about exactly the removed ids", "[snapshot]") {
    Fixture fx;
    config::Config c1 = base_config();
    auto s1 = fx.build(c1);
    const ServiceSnap& tls = find(*s1, 6, "192.0.2.100", 443);
    const uint32_t tls_id = tls.id;
    const std::vector<uint32_t> tls_reals = real_ids(tls);
    config::Config c2 = c1;
    c2.services.erase(c2.services.begin() + 1);
    fx.build(c2);
    std::set<uint32_t> asked_reals, asked_services;
    fx.builder.collect([&](uint32_t id) { asked_reals.insert(id); return true; },
                       [&](uint32_t id) { asked_services.insert(id); return true; });
    CHECK(asked_services == std::set<uint32_t>{tls_id});
    CHECK(asked_reals == std::set<uint32_t>(tls_reals.begin(), tls_reals.end()));
}

TEST_CASE("SnapshotBuilder: limits exceeded -> error, and nothing changes", "[snapshot]") {
    Fixture fx(SnapshotLimits{3, 5});
    const config::Config c1 = base_config();  // 3 services, 5 reals: exactly at the limits
    auto s1 = fx.build(c1);
    const ServiceSnap* web1 = &find(*s1, 6, "192.0.2.100", 80);
    const uint32_t web_id = web1->id;

    struct Bad {
        const char* what;
        void (*edit)(config::Config&);
        const char* message;
    };
    const Bad bads[] = {
        {"a fourth service",
         [](config::Config& c) {
             c.services.push_back(service(Protocol::tcp, "192.0.2.200", 80, Scheduler::rr, {}, {}));
         },
         "too many services"},
        {"a sixth real server",
         [](config::Config& c) { c.services[0].reals.push_back(real("10.0.0.13", 8080)); }, "too many real servers"},
        {"a changed real (new address: a new id) while all ids are taken",
         [](config::Config& c) { c.services[1].reals[0].address = addr("10.0.0.29"); }, "too many real servers"},
    };
    for (const auto& b : bads) {
        INFO(b.what);
        config::Config bad = c1;
        b.edit(bad);
        auto r = fx.builder.build(bad, 2);
        REQUIRE_FALSE(r);
        CHECK(r.error().field == "config.services");
        CHECK(r.error().message.find(b.message) != std::string::npos);
        // A following valid build sees the old state: same ids, same objects.
        auto again = fx.build(c1, 3);
        CHECK(&find(*again, 6, "192.0.2.100", 80) == web1);
        CHECK(find(*again, 6, "192.0.2.100", 443).id == find(*s1, 6, "192.0.2.100", 443).id);
        CHECK(again->services.size() == 3);
    }
    CHECK(web_id == web1->id);
}

TEST_CASE("SnapshotBuilder: quarantined ids count against the limits until collected", "[snapshot]") {
    Fixture fx(SnapshotLimits{3, 5});
    fx.build(base_config());
    config::Config other;
    for (const char* vip : {"192.0.2.201", "192.0.2.202"})
        other.services.push_back(service(Protocol::tcp, vip, 80, Scheduler::rr, {real("10.0.0.11", 80)}, {}));
    fx.build(config::Config{});  // everything removed: 3 service ids and 5 real ids quarantined
    auto r = fx.builder.build(other, 3);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("including removed ones still holding sessions") != std::string::npos);
    fx.collect_idle();
    auto ok = fx.builder.build(other, 4);
    REQUIRE(ok);
    CHECK((*ok)->services.size() == 2);
}

TEST_CASE("SnapshotBuilder: local addresses beyond the registry's free ids -> error, nothing changes",
          "[snapshot]") {
    Fixture fx({}, 5000, 5001);  // a tiny port range: 65533 registry entries stay small
    // Fill the registry as if removed services' addresses were still holding ports, leaving
    // exactly one id free.
    uint32_t taken = 0;
    for (uint32_t i = 0; i + 1 < LocalAddressRegistry::max_ids; ++i) taken += fx.laddrs.acquire(0xac100000u + i) != no_laddr;
    REQUIRE(taken == LocalAddressRegistry::max_ids - 1u);
    config::Config two;  // two new local addresses: one too many
    two.services = {service(Protocol::tcp, "192.0.2.100", 80, Scheduler::rr, {real("10.0.0.11", 80)},
                            {"10.0.0.200", "10.0.0.201"})};
    auto r = fx.builder.build(two, 1);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("local addresses") != std::string::npos);
    CHECK(fx.laddrs.size() == LocalAddressRegistry::max_ids - 1);  // nothing acquired
    // One new address fits, and every id in the snapshot names a live entry.
    config::Config one = two;
    one.services[0].local_addresses.pop_back();
    auto snap = fx.build(one, 2);
    const ServiceSnap& s = find(*snap, 6, "192.0.2.100", 80);
    REQUIRE(s.laddr_ids.size() == 1);
    REQUIRE(s.laddr_ids[0] < LocalAddressRegistry::max_ids);
    REQUIRE(fx.laddrs.entry(s.laddr_ids[0]));
    CHECK(fx.laddrs.entry(s.laddr_ids[0])->address() == ip("10.0.0.200"));
}

TEST_CASE("SnapshotBuilder: collect() frees local addresses that are unreferenced and idle", "[snapshot]") {
    Fixture fx;
    config::Config c1 = base_config();
    auto s1 = fx.build(c1);
    const uint16_t id200 = find(*s1, 6, "192.0.2.100", 80).laddr_ids[0];
    const uint16_t id201 = find(*s1, 17, "192.0.2.100", 53).laddr_ids[1];
    // 10.0.0.201 holds a port on worker 1; both addresses leave the configuration.
    uint16_t port = fx.laddrs.entry(id201)->pool(1).acquire();
    REQUIRE(port != 0);
    config::Config c2 = c1;
    c2.services.erase(c2.services.begin());
    c2.services.pop_back();
    fx.build(c2);
    fx.collect_idle();
    CHECK(fx.laddrs.entry(id200) == nullptr);
    REQUIRE(fx.laddrs.entry(id201) != nullptr);  // its port is still in use
    fx.laddrs.entry(id201)->pool(1).release(port);
    fx.collect_idle();
    CHECK(fx.laddrs.entry(id201) == nullptr);
    CHECK(fx.laddrs.size() == 0);
}

TEST_CASE("SnapshotBuilder: timeouts in milliseconds by session state", "[snapshot]") {
    Fixture fx;
    config::Config c = base_config();
    c.timeouts = config::Timeouts{100, 7, 33};
    auto snap = fx.build(c);
    for (unsigned s = 0; s < session_state_count; ++s) {
        INFO(to_string(SessionState(s)));
        Tick want = default_state_timeout_s[s] * 1000;
        if (SessionState(s) == SessionState::tcp_established) want = 100000;
        if (SessionState(s) == SessionState::tcp_fin_wait) want = 7000;
        if (SessionState(s) == SessionState::udp) want = 33000;
        CHECK(snap->timeout_ms[s] == want);
    }
    // The defaults of the model are the IPVS defaults.
    auto d = fx.build(base_config());
    CHECK(d->timeout_ms[unsigned(SessionState::tcp_established)] == 900000);
    CHECK(d->timeout_ms[unsigned(SessionState::tcp_fin_wait)] == 120000);
    CHECK(d->timeout_ms[unsigned(SessionState::udp)] == 300000);
    CHECK(d->timeout_ms[unsigned(SessionState::tcp_time_wait)] == 120000);
    CHECK(d->timeout_ms[unsigned(SessionState::tcp_syn_recv)] == 60000);
}

TEST_CASE("SnapshotBuilder: expire_nodest_conn in service_flags by id, a real index only where it is set",
          "[snapshot]") {
    Fixture f;
    config::Config c = base_config();
    c.services[1].expire_nodest_conn = true;
    auto s1 = f.build(c);
    const ServiceSnap& web = find(*s1, 6, "192.0.2.100", 80);
    const ServiceSnap& nat = find(*s1, 6, "192.0.2.100", 443);
    CHECK(s1->flags_of(web.id) == 0);
    CHECK(s1->flags_of(nat.id) == service_flag_expire_nodest);
    CHECK(s1->flags_of(100000) == 0);  // beyond the table: none
    CHECK(web.real_index.size() == 0);
    REQUIRE(nat.real_index.size() == 2);
    for (size_t i = 0; i < nat.reals.size(); ++i) {
        CHECK(index_of_real(nat, nat.reals[i].id) == int(i));
        CHECK(s1->presence(nat.id, nat.reals[i].id) == RealPresence::available);
    }
    CHECK(index_of_real(web, web.reals[1].id) == 1);  // by a scan

    // A server taken out and one at weight 0: gone and zero_weight; the flag alone rebuilds
    // one service.
    const uint32_t nat_id = nat.id, gone_id = nat.reals[0].id, kept_id = nat.reals[1].id;
    c.services[1].reals.erase(c.services[1].reals.begin());
    c.services[1].reals[0].weight = 0;
    auto s2 = f.build(c, 2);
    CHECK(s2->presence(nat_id, gone_id) == RealPresence::gone);
    CHECK(s2->presence(nat_id, kept_id) == RealPresence::zero_weight);
    c.services[0].expire_nodest_conn = true;
    auto s3 = f.build(c, 3);
    CHECK(f.builder.last_rebuilt() == 1);
    CHECK(s3->flags_of(find(*s3, 6, "192.0.2.100", 80).id) == service_flag_expire_nodest);

    // The service removed: its id keeps the flag (its sessions follow it), its servers are gone.
    c.services.erase(c.services.begin() + 1);
    auto s4 = f.build(c, 4);
    CHECK(s4->flags_of(nat_id) == service_flag_expire_nodest);
    CHECK(s4->presence(nat_id, kept_id) == RealPresence::gone);
    REQUIRE(f.builder.retired_reals().size() == 1);
    CHECK(f.builder.retired_reals()[0].id == kept_id);
    CHECK(f.builder.retired_reals()[0].addr == ip("10.0.0.22"));
    CHECK(f.builder.retired_reals()[0].port == be16(443));
    CHECK(f.builder.retired_reals()[0].service.port == 443);
}
