// sh and dh: IPVS's 256 buckets (ip_vs_sh.c, ip_vs_dh.c): how servers fill them, which
// bucket an address lands in, sh-port, sh-fallback, and unavailable servers.
#include <catch2/catch.hpp>
#include <map>

#include "dataplane/sched/buckets.hpp"
#include "sched_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using config::Scheduler;

namespace {

std::map<int32_t, int> bucket_counts(const ServiceSnap& svc) {
    std::map<int32_t, int> n;
    for (int32_t b : svc.sched.buckets) ++n[b];
    return n;
}

std::string bucket_prefix(const ServiceSnap& svc, size_t len) {
    std::string out;
    for (size_t i = 0; i < len; ++i) out += letter(svc.sched.buckets[i]);
    return out;
}

}  // namespace

TEST_CASE("sh: buckets follow the weights, in runs of `weight` buckets", "[sched]") {
    struct Case {
        std::vector<uint32_t> weights;
        std::map<int32_t, int> counts;
        std::string prefix;
    };
    const Case cases[] = {
        {{3, 1}, {{0, 192}, {1, 64}}, "AAABAAAB"},
        {{1, 1, 1}, {{0, 86}, {1, 85}, {2, 85}}, "ABCABC"},
        {{1, 3}, {{0, 64}, {1, 192}}, "ABBBABBB"},
        {{0, 1}, {{0, 128}, {1, 128}}, "ABAB"},  // weight 0 still takes one bucket per round
        {{2, 0, 1}, {{0, 128}, {1, 64}, {2, 64}}, "AABCAABC"},
        {{300, 1}, {{0, 256}}, "AAAA"},  // the first 256 of its 300 turns fill the table
        {{200, 100}, {{0, 200}, {1, 56}}, "AAAA"},
        {{}, {{-1, 256}}, "----"},
    };
    for (const Case& c : cases) {
        SchedBench b(Scheduler::sh, c.weights);
        INFO("weights " << ::Catch::Detail::stringify(c.weights));
        REQUIRE(b.svc.sched.buckets.size() == 256);
        CHECK(bucket_counts(b.svc) == c.counts);
        CHECK(bucket_prefix(b.svc, c.prefix.size()) == c.prefix);
    }
}

TEST_CASE("dh: buckets go round the servers one each, whatever the weights", "[sched]") {
    SchedBench b(Scheduler::dh, {3, 1});
    CHECK(bucket_counts(b.svc) == std::map<int32_t, int>{{0, 128}, {1, 128}});
    CHECK(bucket_prefix(b.svc, 4) == "ABAB");
    SchedBench three(Scheduler::dh, {5, 0, 1});
    CHECK(bucket_counts(three.svc) == std::map<int32_t, int>{{0, 86}, {1, 85}, {2, 85}});
}

TEST_CASE("sh/dh: IPVS's hash of the address", "[sched]") {
    // (addr * 2654435761) mod 256, 2654435761 = 0x9e3779b1: 10.0.0.1 -> 0xb1 = 177.
    CHECK(bucket_of(be_addr(10, 0, 0, 1), 0, 0) == 177);
    CHECK(bucket_of(be_addr(10, 0, 0, 2), 0, 0) == 98);   // 354 mod 256
    CHECK(bucket_of(be_addr(10, 0, 0, 3), 0, 0) == 19);   // 531 mod 256
    CHECK(bucket_of(be_addr(99, 1, 2, 1), 0, 0) == 177);  // only the low byte matters
    CHECK(bucket_of(be_addr(10, 0, 0, 1), 1, 0) == 98);   // the port is added to the address
    CHECK(bucket_of(be_addr(10, 0, 0, 1), 0, 5) == 182);  // the fallback offset after the product

    SchedBench sh(Scheduler::sh, {1, 1, 1});  // buckets A B C A B C ...: bucket % 3
    CHECK(letter(sh.pick_from(be_addr(10, 0, 0, 1))) == "A");  // 177 % 3 = 0
    CHECK(letter(sh.pick_from(be_addr(10, 0, 0, 2))) == "C");  // 98 % 3 = 2
    CHECK(letter(sh.pick_from(be_addr(10, 0, 0, 3))) == "B");  // 19 % 3 = 1

    SchedBench dh(Scheduler::dh, {1, 1, 1});
    CHECK(letter(dh.pick_to(be_addr(10, 0, 0, 1))) == "A");
    CHECK(letter(dh.pick_to(be_addr(10, 0, 0, 2))) == "C");
    CHECK(letter(dh.pick_to(be_addr(10, 0, 0, 3))) == "B");
}

TEST_CASE("sh: the same source always gets the same server, the source port only with sh-port", "[sched]") {
    SchedBench plain(Scheduler::sh, {1, 2, 3, 4});
    SchedBench port(Scheduler::sh, {1, 2, 3, 4}, 1, config::sched_flag_sh_port);
    std::map<int, int> per_server;
    int port_moves = 0;
    for (uint32_t i = 0; i < 2560; ++i) {
        uint32_t src = be_addr(10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i));
        int first = plain.pick_from(src, 1000);
        ++per_server[first];
        CHECK(plain.pick_from(src, 1000) == first);
        CHECK(plain.pick_from(src, 2000) == first);  // the port is ignored
        int p = port.pick_from(src, 1000);
        CHECK(port.pick_from(src, 1000) == p);
        if (port.pick_from(src, 1001) != p) ++port_moves;
    }
    // Buckets: 25 rounds of A BB CCC DDDD, then A BB CCC: 26, 52, 78, 100. 2560 consecutive
    // addresses hit each bucket 10 times.
    CHECK(per_server == std::map<int, int>{{0, 260}, {1, 520}, {2, 780}, {3, 1000}});
    CHECK(port_moves > 2560 / 2);
    // With sh-port, address + port is hashed: 10.0.0.1 port 1 lands where 10.0.0.2 port 0 does.
    SchedBench three(Scheduler::sh, {1, 1, 1}, 1, config::sched_flag_sh_port);
    CHECK(letter(three.pick_from(be_addr(10, 0, 0, 1), 1)) == "C");
    CHECK(letter(three.pick_from(be_addr(10, 0, 0, 1), 0)) == "A");
}

TEST_CASE("sh: an unavailable server's buckets give no server, unless sh-fallback", "[sched]") {
    const uint32_t src = be_addr(10, 0, 0, 2);  // bucket 98: C of A B C
    SECTION("weight 0") {
        SchedBench b(Scheduler::sh, {1, 1, 0});
        CHECK(letter(b.pick_from(src)) == "-");
        CHECK(letter(b.pick_from(be_addr(10, 0, 0, 1))) == "A");  // other buckets unchanged
        SchedBench fb(Scheduler::sh, {1, 1, 0}, 1, config::sched_flag_sh_fallback);
        // Fallback probes bucket (offset + 98) + 98 from offset 0: bucket 196, 196 % 3 = 1.
        CHECK(letter(fb.pick_from(src)) == "B");
        CHECK(letter(fb.pick_from(be_addr(10, 0, 0, 1))) == "A");
    }
    SECTION("overloaded") {
        SchedBench b(Scheduler::sh, {1, 1, 1}, 1, config::sched_flag_sh_fallback);
        b.thresholds(2, 5);
        CHECK(letter(b.pick_from(src)) == "C");
        b.conns(2, 5);
        CHECK(letter(b.pick_from(src)) == "B");
        b.svc.sched_flags = 0;
        CHECK(letter(b.pick_from(src)) == "-");
        b.conns(2, 3);  // below 3/4 of 5
        CHECK(letter(b.pick_from(src)) == "C");
    }
    SECTION("fallback when nothing is available") {
        SchedBench b(Scheduler::sh, {0, 0, 0}, 1, config::sched_flag_sh_fallback);
        for (uint8_t i = 0; i < 50; ++i) CHECK(b.pick_from(be_addr(10, 0, 1, i)) == -1);
    }
    SECTION("fallback spreads the orphaned sources over the others") {
        SchedBench b(Scheduler::sh, {1, 1, 0, 1}, 1, config::sched_flag_sh_fallback);
        std::map<int, int> n;
        for (uint32_t i = 0; i < 256; ++i) ++n[b.pick_from(be_addr(10, 0, 0, uint8_t(i)))];
        CHECK(n.count(2) == 0);
        CHECK(n.count(-1) == 0);
        CHECK(n.size() == 3);
    }
}

TEST_CASE("dh: the same destination always gets the same server; unavailable gives none", "[sched]") {
    SchedBench b(Scheduler::dh, {1, 1, 1, 1});
    std::map<int, int> n;
    for (uint32_t i = 0; i < 1024; ++i) {
        uint32_t dst = be_addr(172, 16, uint8_t(i >> 8), uint8_t(i));
        int d = b.pick_to(dst);
        CHECK(b.pick({be_addr(10, 9, 9, 9), dst, 1, 2}) == d);  // the client does not matter
        ++n[d];
    }
    CHECK(n == std::map<int, int>{{0, 256}, {1, 256}, {2, 256}, {3, 256}});
    b.svc.reals[1].weight = 0;
    const uint32_t to_d = be_addr(10, 0, 0, 3);  // bucket 19: 19 % 4 = 3 -> D
    CHECK(letter(b.pick_to(to_d)) == "D");
    CHECK(letter(b.pick_to(be_addr(10, 0, 0, 5))) == "-");  // 885 mod 256 = 117, 117 % 4 = 1 -> B
    b.thresholds(3, 1);
    b.conns(3, 1);
    CHECK(letter(b.pick_to(to_d)) == "-");
}
