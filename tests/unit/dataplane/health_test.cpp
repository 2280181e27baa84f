// Runtime health state in the dataplane (issue 11): the snapshot builder turns a service's
// configuration into its scheduling set (ServiceSnap::reals: removed real servers out,
// inhibited ones at weight 0, dynamic weights, the active sorry server alone) and keeps the
// other configured servers on standby with stable ids; a health change rebuilds its service
// only; every scheduler copes with the sets that result; and crafted packets go where the set
// says: nothing new to a removed real server, everything to an active sorry server.
#include <map>
#include <set>

#include "catch_print.hpp"
#include "dataplane/config/snapshot_builder.hpp"
#include "dataplane/sched/scheduler.hpp"
#include "forwarder_fixture.hpp"
#include "model/config_editor.hpp"
#include "test_config.hpp"

using namespace dplb;
using namespace dplb::test;
using config::ForwardMethod;
using config::Protocol;
using config::RealHealth;
using config::Scheduler;
using Action = fwd::Verdict::Action;

namespace {

constexpr uint8_t SYN = pkt::tcp_syn, ACK = pkt::tcp_ack, TCP = pkt::proto_tcp;

std::vector<PortSnap> ports() { return {port_with(0x10, {"192.0.2.1/24"}), port_with(0x11, {"10.0.0.1/16"})}; }

config::SorryServer sorry(const char* address, uint16_t port, ForwardMethod f = ForwardMethod::nat,
                          bool inhibit = false) {
    return config::SorryServer{addr(address), port, f, inhibit};
}

// `n` NAT rr services of three real servers each (192.0.2.10+i:80 -> 10.0.i.1-3:8080), each
// with a NAT sorry server 10.0.200.i:8080.
config::Config many(unsigned n) {
    config::Config c;
    for (unsigned i = 0; i < n; ++i) {
        std::string vip = "192.0.2." + std::to_string(10 + i);
        std::vector<config::RealServer> reals;
        for (unsigned r = 0; r < 3; ++r) {
            std::string ra = "10.0." + std::to_string(i) + "." + std::to_string(r + 1);
            reals.push_back(real(ra.c_str(), 8080, ForwardMethod::nat, r + 1));
        }
        c.services.push_back(service(Protocol::tcp, vip.c_str(), 80, Scheduler::rr, reals));
        std::string sa = "10.0.200." + std::to_string(i + 1);
        c.services.back().sorry_server = sorry(sa.c_str(), 8080);
    }
    return c;
}

struct Fx {
    Fx() : laddrs(2, 1024, 65535), builder(2, ports(), {}, laddrs) {}

    std::unique_ptr<Snapshot> full(const config::Config& c) {
        auto r = builder.build(c, ++gen);
        if (!r) FAIL(r.error().str());
        return std::move(*r);
    }
    // The batch applied to `editor` and built incrementally, as the dataplane's ConfigApplier does.
    std::unique_ptr<Snapshot> apply(model::ConfigEditor& editor, const model::Batch& batch) {
        if (auto e = editor.apply_batch(batch)) FAIL(e->str());
        auto r = builder.build(editor.config(), model::touched_by(batch), ++gen,
                               [&](const config::ServiceKey& k) { return editor.find_service(k); });
        if (!r) FAIL(r.error().str());
        return std::move(*r);
    }

    LocalAddressRegistry laddrs;
    SnapshotBuilder builder;
    uint64_t gen = 0;
};

const ServiceSnap& svc_of(const Snapshot& s, const config::Service& c) {
    const ServiceSnap* p = s.find_service(TCP, c.key.address.be, be16(c.key.port));
    REQUIRE(p);
    return *p;
}

// "a.b.c.d:port weight" of each RealSnap.
std::vector<std::string> listing(const std::vector<RealSnap>& reals) {
    std::vector<std::string> out;
    for (const auto& r : reals)
        out.push_back(Ip4{r.addr}.str() + ":" + std::to_string(be16(r.port)) + " " + std::to_string(r.weight));
    return out;
}

// Id of the server at address:port, in the set or on standby (0xffffffff: none).
uint32_t id_of(const ServiceSnap& s, const char* address, uint16_t port) {
    for (const auto* list : {&s.reals, &s.standby})
        for (const auto& r : *list)
            if (r.addr == ip(address) && r.port == be16(port)) return r.id;
    return 0xffffffffu;
}

model::SetRealHealth set_health(const config::Service& s, std::size_t r, RealHealth h,
                                std::optional<uint32_t> weight = std::nullopt) {
    return {s.key, s.reals[r].address, s.reals[r].port, h, weight};
}

}  // namespace

TEST_CASE("Health: ServiceSnap::reals is the scheduling set, the other servers wait on standby", "[snapshot][health]") {
    Fx fx;
    config::Config c = many(1);
    config::Service& s = c.services[0];
    auto s0 = fx.full(c);
    const ServiceSnap& a = svc_of(*s0, s);
    using V = std::vector<std::string>;
    CHECK(listing(a.reals) == V{"10.0.0.1:8080 1", "10.0.0.2:8080 2", "10.0.0.3:8080 3"});
    CHECK(listing(a.standby) == V{"10.0.200.1:8080 0"});  // the sorry server, not active
    const uint32_t id1 = id_of(a, "10.0.0.1", 8080), id2 = id_of(a, "10.0.0.2", 8080),
                   id3 = id_of(a, "10.0.0.3", 8080), ids = id_of(a, "10.0.200.1", 8080);
    CHECK(std::set<uint32_t>{id1, id2, id3, ids}.size() == 4);

    s.reals[0].health = RealHealth::removed;
    s.reals[1].health = RealHealth::inhibited;
    s.reals[2].dynamic_weight = 9;
    auto s1 = fx.full(c);
    const ServiceSnap& b = svc_of(*s1, s);
    CHECK(listing(b.reals) == V{"10.0.0.2:8080 0", "10.0.0.3:8080 9"});
    CHECK(listing(b.standby) == V{"10.0.0.1:8080 0", "10.0.200.1:8080 0"});
    CHECK(id_of(b, "10.0.0.1", 8080) == id1);  // removed, not forgotten
    CHECK(id_of(b, "10.0.0.2", 8080) == id2);
    CHECK(id_of(b, "10.0.0.3", 8080) == id3);
    CHECK(b.version != a.version);

    // Quorum lost: the sorry server alone, with the inhibited server at weight 0.
    s.sorry_active = true;
    auto s2 = fx.full(c);
    const ServiceSnap& d = svc_of(*s2, s);
    CHECK(listing(d.reals) == V{"10.0.0.2:8080 0", "10.0.200.1:8080 1"});
    CHECK(id_of(d, "10.0.200.1", 8080) == ids);
    CHECK(listing(d.standby) == V{"10.0.0.1:8080 0", "10.0.0.3:8080 0"});

    // Back: every server up, the same ids as at the start.
    config::Service fresh = many(1).services[0];
    s = fresh;
    auto s3 = fx.full(c);
    const ServiceSnap& e = svc_of(*s3, s);
    CHECK(listing(e.reals) == listing(a.reals));
    CHECK(id_of(e, "10.0.0.1", 8080) == id1);
    CHECK(id_of(e, "10.0.200.1", 8080) == ids);

    // sorry_server_inhibit: in the set at weight 0 while not active.
    s.sorry_server->inhibit = true;
    auto s4 = fx.full(c);
    CHECK(listing(svc_of(*s4, s).reals) == V{"10.0.0.1:8080 1", "10.0.0.2:8080 2", "10.0.0.3:8080 3", "10.0.200.1:8080 0"});
    CHECK(svc_of(*s4, s).standby.empty());
    CHECK(id_of(svc_of(*s4, s), "10.0.200.1", 8080) == ids);

    // A sorry server at a real server's place is that server: one id.
    s.sorry_server = sorry("10.0.0.2", 8080);
    s.sorry_active = true;
    auto s5 = fx.full(c);
    const ServiceSnap& f = svc_of(*s5, s);
    CHECK(listing(f.reals) == V{"10.0.0.2:8080 1"});
    CHECK(id_of(f, "10.0.0.2", 8080) == id2);
    CHECK(listing(f.standby) == V{"10.0.0.1:8080 0", "10.0.0.3:8080 0"});
}

TEST_CASE("Health: a health change rebuilds its service only, the others are shared", "[snapshot][health][delta]") {
    Fx fx;
    model::ConfigEditor editor(many(50));
    auto s1 = fx.full(editor.config());
    CHECK(fx.builder.last_rebuilt() == 50);
    const uint64_t rebuilt = fx.builder.total_rebuilt(), tables = fx.builder.tables_built();
    const config::Service target = editor.config().services[7];

    auto s2 = fx.apply(editor, model::Batch{{set_health(target, 0, RealHealth::removed)}});
    CHECK(fx.builder.last_rebuilt() == 1);
    CHECK(fx.builder.total_rebuilt() == rebuilt + 1);
    CHECK(fx.builder.tables_built() == tables + 1);
    for (const auto& svc : editor.config().services) {
        const ServiceSnap& a = svc_of(*s1, svc);
        const ServiceSnap& b = svc_of(*s2, svc);
        if (svc.key == target.key) {
            CHECK(&a != &b);
            CHECK(b.id == a.id);
            CHECK(b.reals.size() == 2);
        } else {
            CHECK(&a == &b);
        }
    }
    // The removed NAT server keeps its owner entry: its connections' replies still find their
    // worker. Nothing moved, so the NAT map is the same.
    CHECK(s2->nat_reals.find(service_lookup_key(TCP, ip("10.0.7.1"), be16(8080))));
    CHECK(s2->nat_reals.size() == s1->nat_reals.size());
    CHECK(s2->service_list.size() == 50);

    // The sorry server, then back: one service each time.
    auto s3 = fx.apply(editor, model::Batch{{model::SetSorryActive{target.key, true}}});
    CHECK(fx.builder.last_rebuilt() == 1);
    CHECK(listing(svc_of(*s3, target).reals) == std::vector<std::string>{"10.0.200.8:8080 1"});
    auto s4 = fx.apply(editor, model::Batch{{model::SetSorryActive{target.key, false},
                                             set_health(target, 0, RealHealth::up),
                                             set_health(target, 2, RealHealth::up, 5)}});
    CHECK(fx.builder.last_rebuilt() == 1);
    CHECK(listing(svc_of(*s4, target).reals) ==
          std::vector<std::string>{"10.0.7.1:8080 1", "10.0.7.2:8080 2", "10.0.7.3:8080 5"});
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(svc_of(*s4, target).reals[i].id == svc_of(*s1, target).reals[i].id);

    // The same change again changes nothing: no service rebuilt.
    fx.apply(editor, model::Batch{{set_health(target, 2, RealHealth::up, 5)}});
    CHECK(fx.builder.last_rebuilt() == 0);

    // The incremental result is what a full build of the same configuration gives.
    Fx other;
    auto whole = other.full(editor.config());
    for (const auto& svc : editor.config().services)
        CHECK(listing(svc_of(*whole, svc).reals) == listing(svc_of(*s4, svc).reals));
}

TEST_CASE("Health: a removed real server keeps its id until deleted; then it drains as before", "[snapshot][health]") {
    Fx fx;
    model::ConfigEditor editor(many(1));
    const config::Service s = editor.config().services[0];
    auto s1 = fx.full(editor.config());
    const uint32_t id1 = id_of(svc_of(*s1, s), "10.0.0.1", 8080);
    fx.apply(editor, model::Batch{{set_health(s, 0, RealHealth::removed)}});
    std::vector<uint32_t> asked;
    fx.builder.collect([&](uint32_t id) { asked.push_back(id); return false; }, [](uint32_t) { return false; });
    CHECK(asked.empty());  // not retired: it is still configured
    // A new real server does not take its id.
    config::RealServer extra = real("10.0.0.9", 8080, ForwardMethod::nat);
    auto s2 = fx.apply(editor, model::Batch{{model::AddReal{s.key, extra}}});
    CHECK(id_of(svc_of(*s2, s), "10.0.0.9", 8080) != id1);
    CHECK(id_of(svc_of(*s2, s), "10.0.0.1", 8080) == id1);
    // Deleted while removed: retired like any deleted server, its NAT key drains.
    auto s3 = fx.apply(editor, model::Batch{{model::DeleteReal{s.key, s.reals[0].address, 8080}}});
    CHECK(id_of(svc_of(*s3, s), "10.0.0.1", 8080) == 0xffffffffu);
    CHECK(s3->nat_reals.find(service_lookup_key(TCP, ip("10.0.0.1"), be16(8080))));  // draining
    fx.builder.collect([&](uint32_t id) { asked.push_back(id); return false; }, [](uint32_t) { return false; });
    CHECK(asked == std::vector<uint32_t>{id1});
}

TEST_CASE("Health: every scheduler with removed, inhibited and sorry-only sets", "[snapshot][health][sched]") {
    const Scheduler all[] = {Scheduler::rr,  Scheduler::wrr,   Scheduler::lc, Scheduler::wlc, Scheduler::sed,
                             Scheduler::nq,  Scheduler::sh,    Scheduler::dh, Scheduler::lblc, Scheduler::lblcr,
                             Scheduler::fo,  Scheduler::ovf,   Scheduler::mh};
    for (Scheduler sched : all) {
        INFO(config::to_string(sched));
        Fx fx;
        config::Config c = many(1);
        config::Service& s = c.services[0];
        s.scheduler = sched;
        const LoadBoard load(1);
        OverloadFlags overload(1u << 17);
        // Choices over many clients and destinations: the set indexes chosen.
        auto choices = [&](const ServiceSnap& svc) {
            std::set<int> out;
            SchedState st;
            for (uint32_t k = 0; k < 64; ++k) {
                // Sources and destinations vary: sh hashes the one, dh the other.
                ScheduleInput in{ip("198.51.100.1") + (k << 24), ip("203.0.113.1") + (k << 24),
                                 be16(uint16_t(1000 + k)), svc.vport, Tick(k)};
                SchedContext ctx(svc, st, in, 0, load, overload);
                out.insert(schedule(ctx));
            }
            return out;
        };
        // Every real server removed: an empty set, nothing chosen.
        for (auto& r : s.reals) r.health = RealHealth::removed;
        auto s1 = fx.full(c);
        CHECK(svc_of(*s1, s).reals.empty());
        CHECK(choices(svc_of(*s1, s)) == std::set<int>{-1});
        // Every real server inhibited: weight 0 only, nothing chosen.
        for (auto& r : s.reals) r.health = RealHealth::inhibited;
        auto s2 = fx.full(c);
        CHECK(svc_of(*s2, s).reals.size() == 3);
        CHECK(choices(svc_of(*s2, s)) == std::set<int>{-1});
        // One left up among the inhibited: only it (sh/dh/mh without fallback may find none).
        s.reals[1].health = RealHealth::up;
        auto s3 = fx.full(c);
        auto got = choices(svc_of(*s3, s));
        got.erase(-1);
        CHECK(got == std::set<int>{1});
        // The sorry server alone, with the inhibited servers at weight 0: only the sorry server.
        s.sorry_active = true;
        auto s4 = fx.full(c);
        const ServiceSnap& v = svc_of(*s4, s);
        REQUIRE(v.reals.size() == 3);  // two inhibited, then the sorry server
        got = choices(v);
        got.erase(-1);
        CHECK(got == std::set<int>{2});
        CHECK(v.reals[2].addr == ip("10.0.200.1"));
    }
}

namespace {

// Sends a client SYN to VIP:80 (the fixture's FULLNAT service) and returns where it went, or
// 0 when it was dropped for no_real_server.
uint32_t syn_to(Lb& lb, uint16_t cport) {
    Bytes f = build_frame(client_packet(cport, Net::vip, 80, SYN));
    fwd::Verdict v = lb.send(f, Net::client_port);
    if (v.action == Action::drop) {
        CHECK(v.reason == DropReason::no_real_server);
        return 0;
    }
    REQUIRE(v.action == Action::forward);
    return v.route_to;
}

uint32_t lb_id(const Lb& lb, const char* address, uint16_t port) {
    return id_of(lb.service(TCP, Net::vip, 80), address, port);
}

}  // namespace

TEST_CASE("Health: crafted SYNs go to the scheduling set only", "[forwarder][health]") {
    const uint32_t rs1 = ip("10.0.0.11"), rs2 = ip("10.0.0.12"), sorry_addr = ip("10.0.0.13");
    LbOptions o;
    o.config.services[0].sorry_server = sorry("10.0.0.13", 8080, ForwardMethod::fullnat);
    Lb lb(o);
    config::Config c = lb.opts.config;
    const uint32_t id1 = lb_id(lb, "10.0.0.11", 8080);

    // A connection to RS1, then RS1 removed: it keeps its session, new SYNs go to RS2 only.
    CHECK(syn_to(lb, 50000) == rs1);
    c.services[0].reals[0].health = RealHealth::removed;
    lb.reconfigure(c);
    for (uint16_t p = 50001; p < 50007; ++p) CHECK(syn_to(lb, p) == rs2);
    const Session* kept = lb.session(Net::client, 50000, Net::vip, 80);
    REQUIRE(kept);
    CHECK(kept->real_id == id1);
    CHECK(lb_id(lb, "10.0.0.11", 8080) == id1);  // standby, same id
    Bytes ack = build_frame(client_packet(50000, Net::vip, 80, ACK));
    CHECK(lb.send(ack, Net::client_port).route_to == rs1);  // its connection still forwards
    CHECK(lb.fwd.real_counters()[id1].conns.get() == 1);

    // Quorum lost: every new connection to the sorry server, counted on its id.
    c.services[0].sorry_active = true;
    lb.reconfigure(c);
    const uint32_t sorry_id = lb_id(lb, "10.0.0.13", 8080);
    for (uint16_t p = 50010; p < 50016; ++p) CHECK(syn_to(lb, p) == sorry_addr);
    CHECK(lb.fwd.real_counters()[sorry_id].conns.get() == 6);
    CHECK(lb.service(TCP, Net::vip, 80).reals.size() == 1);

    // Quorum back, RS1 inhibited: RS2 only, RS1 at weight 0 in the set.
    c.services[0].sorry_active = false;
    c.services[0].reals[0].health = RealHealth::inhibited;
    lb.reconfigure(c);
    CHECK(lb.service(TCP, Net::vip, 80).reals.size() == 2);
    for (uint16_t p = 50020; p < 50024; ++p) CHECK(syn_to(lb, p) == rs2);
    CHECK(lb_id(lb, "10.0.0.13", 8080) == sorry_id);  // the sorry server waits on standby

    // Nothing left: dropped as for a service without servers.
    c.services[0].reals[1].health = RealHealth::removed;
    lb.reconfigure(c);
    CHECK(syn_to(lb, 50030) == 0);

    // Everything up again: rr over both, RS1 with its old id and counters.
    c = lb.opts.config;
    lb.reconfigure(c);
    std::set<uint32_t> seen;
    for (uint16_t p = 50040; p < 50044; ++p) seen.insert(syn_to(lb, p));
    CHECK(seen == std::set<uint32_t>{rs1, rs2});
    CHECK(lb_id(lb, "10.0.0.11", 8080) == id1);
    CHECK(lb.fwd.real_counters()[id1].conns.get() == 3);
}
