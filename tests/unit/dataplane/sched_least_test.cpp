// lc, wlc, sed, nq, fo, ovf: the choice IPVS makes for given connection counts and weights
// (ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sed.c, ip_vs_nq.c, ip_vs_fo.c, ip_vs_ovf.c), ties, weight 0,
// servers over their connection threshold and the threshold's hysteresis.
#include <catch2/catch.hpp>

#include "sched_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using config::Scheduler;

namespace {

struct Conns {
    uint64_t active = 0, inactive = 0;
};

struct Case {
    const char* what;
    Scheduler sched;
    std::vector<uint32_t> weights;
    std::vector<Conns> conns;
    std::string expected;  // letter of the chosen server, "-" for none
};

void check(const Case& c) {
    SchedBench b(c.sched, c.weights);
    for (size_t i = 0; i < c.conns.size(); ++i) b.conns(i, c.conns[i].active, c.conns[i].inactive);
    INFO(c.what << " (" << config::to_string(c.sched) << ")");
    CHECK(letter(b.pick_from(b.client)) == c.expected);
}

// Picks from idle servers, each then counted as one more active connection of the chosen one.
struct Seq {
    Scheduler sched;
    std::vector<uint32_t> weights;
    std::string expected;
};

void check(const Seq& s) {
    SchedBench b(s.sched, s.weights);
    INFO(config::to_string(s.sched) << " weights " << ::Catch::Detail::stringify(s.weights));
    CHECK(b.run(int(s.expected.size())) == s.expected);
}

}  // namespace

TEST_CASE("lc, wlc, sed, nq: the least loaded server for given counts", "[sched]") {
    const Case cases[] = {
        // lc: active * 256 + inactive, weights ignored except 0.
        {"all idle: the first", Scheduler::lc, {1, 1, 1}, {}, "A"},
        {"tie between A and C: the first", Scheduler::lc, {1, 1, 1}, {{1, 0}, {0, 300}, {1, 0}}, "A"},
        {"one active outweighs 255 inactive", Scheduler::lc, {1, 1, 1}, {{1, 0}, {0, 255}, {0, 256}}, "B"},
        {"weights do not scale", Scheduler::lc, {5, 1}, {{1, 0}, {0, 10}}, "B"},
        {"weight 0 is quiesced", Scheduler::lc, {0, 1, 1}, {{}, {2, 0}, {1, 0}}, "C"},
        {"later tie", Scheduler::lc, {1, 1, 1}, {{2, 0}, {1, 0}, {1, 0}}, "B"},
        {"nothing available", Scheduler::lc, {0, 0}, {}, "-"},
        // wlc: (active * 256 + inactive) / weight.
        {"the heavier weight halves the load", Scheduler::wlc, {1, 2}, {{1, 0}, {1, 0}}, "B"},
        {"equal load per weight: the first", Scheduler::wlc, {2, 1}, {{2, 0}, {1, 0}}, "A"},
        {"inactive counts 1/256", Scheduler::wlc, {1, 1}, {{0, 255}, {1, 0}}, "A"},
        {"weight 0 idle is not chosen", Scheduler::wlc, {0, 1}, {{}, {1000, 0}}, "B"},
        {"weight 0 after the first", Scheduler::wlc, {1, 0}, {{1000, 0}, {}}, "A"},
        {"tie of three", Scheduler::wlc, {1, 3, 0}, {{1, 0}, {3, 0}, {}}, "A"},
        {"nothing available", Scheduler::wlc, {0, 0}, {}, "-"},
        // sed: (active + 1) / weight, inactive ignored.
        {"idle servers: the heavier weight", Scheduler::sed, {1, 3}, {}, "B"},
        {"inactive ignored", Scheduler::sed, {1, 3}, {{0, 0}, {0, 100000}}, "B"},
        {"equal expected delay: the first", Scheduler::sed, {1, 3}, {{0, 0}, {2, 0}}, "A"},
        {"weight 0", Scheduler::sed, {0, 1}, {{}, {50, 0}}, "B"},
        // nq: the first idle server, else sed.
        {"an idle server wins over a heavier weight", Scheduler::nq, {1, 3}, {}, "A"},
        {"the first idle one", Scheduler::nq, {1, 3, 1}, {{1, 0}, {2, 0}, {0, 0}}, "C"},
        {"inactive does not make busy", Scheduler::nq, {1, 3}, {{0, 500}, {1, 0}}, "A"},
        {"all busy: sed", Scheduler::nq, {1, 3}, {{1, 0}, {1, 0}}, "B"},
        {"all busy, sed tie: the first", Scheduler::nq, {1, 3}, {{1, 0}, {5, 0}}, "A"},
        {"idle but weight 0", Scheduler::nq, {0, 1}, {{}, {3, 0}}, "B"},
    };
    for (const Case& c : cases) check(c);
}

TEST_CASE("lc, wlc, sed, nq: sequences as connections pile up", "[sched]") {
    const Seq cases[] = {
        {Scheduler::lc, {1, 1, 1}, "ABCABC"},
        {Scheduler::lc, {1, 0, 1}, "ACAC"},
        {Scheduler::lc, {9, 1}, "ABABAB"},
        {Scheduler::wlc, {3, 1}, "ABAAABAAAB"},
        {Scheduler::wlc, {1, 2, 3}, "ABCCBCABCCBC"},
        {Scheduler::wlc, {4, 3, 2, 1}, "ABCDABACBAABCDABACBA"},
        {Scheduler::sed, {1, 3}, "BBABBBA"},
        {Scheduler::sed, {1, 2, 3}, "CBCABCCBCABC"},
        {Scheduler::sed, {4, 3, 2, 1}, "ABACBAABCDABACBAABCD"},
        {Scheduler::nq, {1, 3}, "ABBBBBA"},
        {Scheduler::nq, {1, 2, 3}, "ABCCBCCBCABC"},
        {Scheduler::nq, {0, 2}, "BBBB"},
    };
    for (const Seq& s : cases) check(s);
}

TEST_CASE("fo and ovf: the highest weight, ovf overflowing by active connections", "[sched]") {
    const Case cases[] = {
        {"highest weight, first of equals", Scheduler::fo, {1, 3, 3}, {}, "B"},
        {"load does not matter", Scheduler::fo, {1, 3}, {{0, 0}, {1000, 1000}}, "B"},
        {"weight 0 never", Scheduler::fo, {0, 0, 2}, {}, "C"},
        {"nothing available", Scheduler::fo, {0, 0}, {}, "-"},
        {"ovf: highest weight within its weight", Scheduler::ovf, {3, 2}, {{3, 0}, {0, 0}}, "A"},
        {"ovf: active above weight overflows", Scheduler::ovf, {3, 2}, {{4, 0}, {0, 0}}, "B"},
        {"ovf: inactive does not count", Scheduler::ovf, {3, 2}, {{3, 100}, {0, 0}}, "A"},
        {"ovf: every server full", Scheduler::ovf, {3, 2}, {{4, 0}, {3, 0}}, "-"},
        {"ovf: first of equal weights", Scheduler::ovf, {2, 5, 5}, {{0, 0}, {1, 0}, {0, 0}}, "B"},
    };
    for (const Case& c : cases) check(c);

    const Seq seqs[] = {
        {Scheduler::fo, {1, 3, 2}, "BBBBBB"},
        {Scheduler::ovf, {3, 2}, "AAAABBB--"},
        {Scheduler::ovf, {2, 3}, "BBBBAAA-"},
        {Scheduler::ovf, {0, 1}, "BB-"},
    };
    for (const Seq& s : seqs) check(s);
}

TEST_CASE("dynamic schedulers skip a server over its upper threshold", "[sched]") {
    SECTION("fo falls over to the next weight") {
        SchedBench b(Scheduler::fo, {1, 3, 2});
        b.thresholds(1, 2);
        CHECK(b.run(5) == "BBCCC");
    }
    SECTION("ovf") {
        SchedBench b(Scheduler::ovf, {3, 2});
        b.thresholds(0, 2);
        CHECK(b.run(6) == "AABBB-");
    }
    for (Scheduler s : {Scheduler::lc, Scheduler::wlc, Scheduler::sed, Scheduler::nq}) {
        SchedBench b(s, {1, 1});
        b.thresholds(0, 1);
        b.conns(0, 1);
        b.conns(1, 50);
        INFO(config::to_string(s));
        CHECK(letter(b.pick_from(b.client)) == "B");
        b.thresholds(1, 50);
        CHECK(letter(b.pick_from(b.client)) == "-");
    }
}

TEST_CASE("overload hysteresis: set at the upper threshold, cleared below the lower one", "[sched]") {
    // wlc with A far lighter than B: A is chosen whenever it is not overloaded.
    struct Step {
        uint64_t a_conns;
        const char* expected;
    };
    auto walk = [](uint32_t upper, uint32_t lower, std::vector<Step> steps) {
        SchedBench b(Scheduler::wlc, {10, 1});
        b.thresholds(0, upper, lower);
        b.conns(1, 1);
        for (const Step& s : steps) {
            b.conns(0, s.a_conns);
            INFO("upper " << upper << " lower " << lower << ", A has " << s.a_conns);
            CHECK(letter(b.pick_from(b.client)) == s.expected);
        }
    };
    SECTION("no lower threshold: cleared below 3/4 of the upper one") {
        walk(4, 0, {{3, "A"}, {4, "B"}, {5, "B"}, {3, "B"}, {2, "A"}, {3, "A"}, {4, "B"}});
        walk(8, 0, {{8, "B"}, {6, "B"}, {5, "A"}});
    }
    SECTION("lower threshold") {
        walk(4, 2, {{4, "B"}, {3, "B"}, {2, "B"}, {1, "A"}, {3, "A"}, {4, "B"}});
    }
    SECTION("inactive connections count toward the threshold") {
        SchedBench b(Scheduler::wlc, {10, 1});
        b.thresholds(0, 4);
        b.conns(1, 1);
        b.conns(0, 1, 3);
        CHECK(letter(b.pick_from(b.client)) == "B");
    }
}
