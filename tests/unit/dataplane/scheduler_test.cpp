// rr and wrr: the exact sequences IPVS produces (ip_vs_rr.c, ip_vs_wrr.c), weight 0,
// nothing available, and the scheduler state reset on a new service version. Every
// scheduler: nothing to choose from, and never a quiesced or overloaded server.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dataplane/sched/scheduler.hpp"
#include "sched_fixture.hpp"

using namespace dplb;

namespace {

ServiceSnap service(config::Scheduler sched, std::vector<uint32_t> weights, uint64_t version = 1) {
    ServiceSnap s;
    s.version = version;
    s.scheduler = sched;
    for (size_t i = 0; i < weights.size(); ++i) {
        RealSnap r;
        r.weight = weights[i];
        r.id = uint32_t(100 + i);
        s.reals.push_back(r);
    }
    prepare_scheduler(s, 1);
    return s;
}

// n choices as letters: A = reals[0]; '-' for -1.
std::string sequence(const ServiceSnap& svc, SchedState& st, int n) {
    static const LoadBoard load(1);
    static OverloadFlags overload(1024);
    const ScheduleInput in{1, 2, 3, 4};
    std::string out;
    for (int i = 0; i < n; ++i) {
        SchedContext ctx(svc, st, in, 0, load, overload);
        int c = schedule(ctx);
        out += c < 0 ? '-' : char('A' + c);
    }
    return out;
}
std::string sequence(const ServiceSnap& svc, int n) {
    SchedState st;
    return sequence(svc, st, n);
}
std::string repeat(const std::string& s, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += s;
    return out;
}

}  // namespace

TEST_CASE("rr: cycles over the servers, skipping weight 0", "[sched]") {
    using config::Scheduler;
    CHECK(sequence(service(Scheduler::rr, {1, 1, 1}), 7) == "ABCABCA");
    CHECK(sequence(service(Scheduler::rr, {5, 1, 100}), 6) == "ABCABC");  // weights do not matter
    CHECK(sequence(service(Scheduler::rr, {1, 0, 1}), 6) == "ACACAC");
    CHECK(sequence(service(Scheduler::rr, {0, 1, 1}), 5) == "BCBCB");
    CHECK(sequence(service(Scheduler::rr, {1, 1, 0}), 5) == "ABABA");
    CHECK(sequence(service(Scheduler::rr, {0, 0, 1}), 3) == "CCC");
    CHECK(sequence(service(Scheduler::rr, {0, 0, 0}), 3) == "---");
    CHECK(sequence(service(Scheduler::rr, {}), 2) == "--");
    CHECK(sequence(service(Scheduler::rr, {1}), 3) == "AAA");
}

TEST_CASE("rr: a server quiesced mid-cycle is skipped from where the cycle stands", "[sched]") {
    ServiceSnap s = service(config::Scheduler::rr, {1, 1, 1});
    SchedState st;
    CHECK(sequence(s, st, 2) == "AB");
    s.reals[2].weight = 0;  // same version: the state carries on
    CHECK(sequence(s, st, 3) == "ABA");
}

TEST_CASE("wrr: IPVS sequences", "[sched]") {
    using config::Scheduler;
    struct Case {
        std::vector<uint32_t> weights;
        std::string period;
    };
    const Case cases[] = {
        {{4, 3, 2}, "AABABCABC"},
        {{3, 1}, "AAAB"},
        {{1, 3}, "BBAB"},
        {{4, 2, 2}, "AABC"},              // gcd 2: the same proportions as 2,1,1
        {{6, 4, 2}, "AABABC"},            // gcd 2
        {{2, 0, 1}, "AAC"},               // weight 0 never chosen
        {{0, 5}, "B"},
        {{1, 1, 1}, "ABC"},
        {{100, 100}, "AB"},
        {{5}, "A"},
        {{3, 2, 0, 1}, "AABABD"},
    };
    for (const auto& c : cases) {
        ServiceSnap s = service(Scheduler::wrr, c.weights);
        INFO("weights " << ::Catch::Detail::stringify(c.weights));
        CHECK(sequence(s, int(c.period.size()) * 4) == repeat(c.period, 4));
    }
}

TEST_CASE("wrr: precomputed gcd and max weight", "[sched]") {
    using config::Scheduler;
    struct Case {
        std::vector<uint32_t> weights;
        int32_t di, mw;
    };
    const Case cases[] = {
        {{4, 3, 2}, 1, 4}, {{4, 2, 2}, 2, 3}, {{6, 4, 2}, 2, 5}, {{0, 9, 6}, 3, 7}, {{0, 0}, 1, 0}, {{}, 1, 0},
    };
    for (const auto& c : cases) {
        ServiceSnap s = service(Scheduler::wrr, c.weights);
        INFO("weights " << ::Catch::Detail::stringify(c.weights));
        CHECK(s.sched.wrr_di == c.di);
        CHECK(s.sched.wrr_mw == c.mw);
    }
}

TEST_CASE("wrr: nothing available", "[sched]") {
    using config::Scheduler;
    CHECK(sequence(service(Scheduler::wrr, {0, 0, 0}), 3) == "---");
    CHECK(sequence(service(Scheduler::wrr, {}), 2) == "--");
}

TEST_CASE("schedule: state is reset when the service version changes", "[sched]") {
    using config::Scheduler;
    SECTION("rr") {
        ServiceSnap v1 = service(Scheduler::rr, {1, 1, 1}, 1);
        SchedState st;
        CHECK(sequence(v1, st, 2) == "AB");
        CHECK(st.version == 1);
        ServiceSnap v2 = service(Scheduler::rr, {1, 1, 1}, 2);
        CHECK(sequence(v2, st, 2) == "AB");  // from the start again, not "CA"
        CHECK(st.version == 2);
        CHECK(sequence(v2, st, 1) == "C");
    }
    SECTION("wrr") {
        ServiceSnap v1 = service(Scheduler::wrr, {4, 3, 2}, 7);
        SchedState st;
        CHECK(sequence(v1, st, 4) == "AABA");
        ServiceSnap v2 = service(Scheduler::wrr, {1, 3}, 8);
        CHECK(sequence(v2, st, 8) == "BBABBBAB");
        CHECK(st.cw > 0);
    }
    SECTION("the FULLNAT local address cursor survives the reset") {
        ServiceSnap v1 = service(Scheduler::rr, {1, 1}, 1);
        SchedState st;
        st.laddr_cursor = 5;
        sequence(v1, st, 1);
        CHECK(st.laddr_cursor == 5);
        ServiceSnap v2 = service(Scheduler::rr, {1, 1}, 2);
        sequence(v2, st, 1);
        CHECK(st.laddr_cursor == 5);
        CHECK(st.version == 2);
    }
}

namespace {

struct Rng {
    uint64_t s = 88172645463325252ULL;
    uint32_t next(uint32_t n) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return uint32_t((s >> 11) % n);
    }
};

const config::Scheduler all_schedulers[] = {
    config::Scheduler::rr,  config::Scheduler::wrr, config::Scheduler::lc,   config::Scheduler::wlc,
    config::Scheduler::sed, config::Scheduler::nq,  config::Scheduler::sh,   config::Scheduler::dh,
    config::Scheduler::lblc, config::Scheduler::lblcr, config::Scheduler::fo, config::Scheduler::ovf,
    config::Scheduler::mh,
};

}  // namespace

TEST_CASE("schedule: no server, or none with a weight, gives none", "[sched]") {
    for (auto sched : all_schedulers) {
        INFO(config::to_string(sched));
        CHECK(sequence(service(sched, {}), 2) == "--");
        CHECK(sequence(service(sched, {0, 0, 0}), 2) == "--");
    }
}

TEST_CASE("schedule: never a server with weight 0 or over its threshold, whatever the load", "[sched]") {
    // Random weights (some 0), loads and upper thresholds, many clients and destinations.
    // Only lblc's cache may name a server over its threshold (IPVS checks weight and lblc's
    // own overload rule there, not the threshold). Schedulers that walk every server find one
    // whenever one is available.
    Rng rng;
    for (auto sched : all_schedulers) {
        for (uint32_t flags : {0u, uint32_t(config::sched_flag_sh_fallback | config::sched_flag_mh_fallback)}) {
            for (int round = 0; round < 20; ++round) {
                std::vector<uint32_t> weights(1 + rng.next(6));
                for (uint32_t& w : weights) w = rng.next(3) ? 1 + rng.next(5) : 0;
                dplb::test::SchedBench b(sched, weights, 1, flags, 251);
                for (size_t i = 0; i < weights.size(); ++i) {
                    if (rng.next(3) == 0) b.thresholds(i, 1 + rng.next(4));
                    b.conns(i, rng.next(6), rng.next(6));
                }
                auto usable = [&](size_t i) {
                    const RealSnap& r = b.svc.reals[i];
                    return r.weight > 0 && !(r.upper_threshold && b.counts(i).total() >= r.upper_threshold);
                };
                bool any = false;
                for (size_t i = 0; i < weights.size(); ++i) any |= usable(i);
                for (int k = 0; k < 30; ++k) {
                    ScheduleInput in{dplb::test::be_addr(10, 0, uint8_t(rng.next(4)), uint8_t(rng.next(256))),
                                     dplb::test::be_addr(172, 16, 0, uint8_t(rng.next(8))), uint16_t(rng.next(65536)),
                                     dplb::test::be_port(80), Tick(k)};
                    int c = b.pick(in);
                    INFO(config::to_string(sched) << " flags " << flags << " weights "
                                                  << ::Catch::Detail::stringify(weights) << " chose " << c);
                    if (c < 0) {
                        bool walks = sched != config::Scheduler::sh && sched != config::Scheduler::dh &&
                                     sched != config::Scheduler::mh && sched != config::Scheduler::ovf;
                        if (walks || (sched == config::Scheduler::sh && flags)) CHECK_FALSE(any);
                        continue;
                    }
                    REQUIRE(size_t(c) < weights.size());
                    CHECK(b.svc.reals[size_t(c)].weight > 0);
                    if (sched != config::Scheduler::lblc) CHECK(usable(size_t(c)));
                }
            }
        }
    }
}
