// lblc and lblcr (ip_vs_lblc.c, ip_vs_lblcr.c): a destination sticks to its server (set)
// until lblc's overload rule or a missing server moves it, IPVS's 24-hour expiry, lblcr's
// set growth and shrinking, per-worker caches, carrying caches across service versions, and
// the fixed-size cache's eviction.
#include <catch2/catch.hpp>

#include "dataplane/sched/locality.hpp"
#include "sched_fixture.hpp"

using namespace dplb;
using namespace dplb::test;
using config::Scheduler;

namespace {

const uint32_t d1 = be_addr(172, 16, 0, 1);
const uint32_t d2 = be_addr(172, 16, 0, 2);
constexpr Tick day = locality_expiration_ms;

// The same service as a new version (what the snapshot builder makes of an edited service).
ServiceSnap next_version(const ServiceSnap& s, std::vector<RealSnap> reals) {
    ServiceSnap n;
    n.id = s.id;
    n.version = s.version + 1;
    n.scheduler = s.scheduler;
    n.sched_flags = s.sched_flags;
    n.reals = std::move(reals);
    prepare_scheduler(n, unsigned(s.sched_scratch.size()));
    return n;
}

// lblcr's set for `daddr` as letters, newest first.
std::string set_of(SchedBench& b, uint32_t daddr, Tick now, unsigned worker = 0) {
    LblcrEntry* en = b.svc.sched_scratch[worker]->lblcr->find(daddr, now);
    if (!en) return "none";
    std::string out;
    for (size_t k = 0; k < en->size; ++k) out += char('A' + (en->ids[k] - SchedBench::first_id));
    return out;
}

}  // namespace

TEST_CASE("lblc: a destination sticks to its server while it is not overloaded", "[sched][lblc]") {
    SchedBench b(Scheduler::lblc, {10, 10, 10});
    CHECK(letter(b.pick_to(d1)) == "A");  // wlc, all idle
    b.conns(0, 5);
    CHECK(letter(b.pick_to(d1)) == "A");  // wlc would pick B now
    CHECK(letter(b.pick_to(d2)) == "B");  // a new destination: wlc
    CHECK(letter(b.pick_to(d2)) == "B");

    SECTION("more active than its weight, while another has less than half of its own: moves") {
        b.actives({11, 4, 5});
        CHECK(letter(b.pick_to(d1)) == "B");  // B: 4 * 2 < 10
        b.conns(0, 0);
        CHECK(letter(b.pick_to(d1)) == "B");  // and stays with the new one
    }
    SECTION("over its weight, but nobody under half of theirs: stays") {
        b.actives({11, 5, 5});
        CHECK(letter(b.pick_to(d1)) == "A");
    }
    SECTION("inactive connections do not make it overloaded") {
        b.conns(0, 10, 1000);
        CHECK(letter(b.pick_to(d1)) == "A");
    }
    SECTION("weight 0: moves") {
        b.svc.reals[0].weight = 0;
        CHECK(letter(b.pick_to(d1)) == "B");  // wlc over B and C, both idle
    }
    SECTION("over its connection threshold: IPVS still uses the cached server") {
        b.thresholds(0, 5);
        CHECK(letter(b.pick_to(d1)) == "A");
        CHECK(letter(b.pick_to(be_addr(172, 16, 0, 3))) == "B");  // a new pick skips it
    }
}

TEST_CASE("lblc: entries expire after 24 hours unused", "[sched][lblc]") {
    SchedBench b(Scheduler::lblc, {10, 10});
    const Tick t0 = 4200000000u;  // the 32-bit clock wraps on the way
    CHECK(letter(b.pick_to(d1, t0)) == "A");
    b.conns(0, 5);
    CHECK(letter(b.pick_to(d1, t0 + day - 1)) == "A");  // used again: the day starts over
    CHECK(letter(b.pick_to(d1, t0 + 2 * day - 2)) == "A");
    CHECK(letter(b.pick_to(d1, t0 + 3 * day - 2)) == "B");  // a day unused: forgotten, wlc again
    CHECK(letter(b.pick_to(d1, t0 + 3 * day)) == "B");
}

TEST_CASE("lblc: each worker has its own cache", "[sched][lblc]") {
    SchedBench b(Scheduler::lblc, {10, 10}, 2);
    REQUIRE(b.svc.sched_scratch.size() == 2);
    CHECK(letter(b.pick_to(d1, 0, 0)) == "A");
    b.conns(0, 5);
    CHECK(letter(b.pick_to(d1, 0, 1)) == "B");
    CHECK(letter(b.pick_to(d1, 0, 0)) == "A");
    CHECK(letter(b.pick_to(d1, 0, 1)) == "B");
}

TEST_CASE("lblc/lblcr: caches carried to the next version of the service", "[sched][lblc][lblcr]") {
    for (Scheduler s : {Scheduler::lblc, Scheduler::lblcr}) {
        INFO(config::to_string(s));
        SchedBench b(s, {10, 10, 10});
        CHECK(letter(b.pick_to(d1)) == "A");
        b.conns(0, 5);
        CHECK(letter(b.pick_to(d2)) == "B");
        b.conns(1, 5);

        ServiceSnap fresh = next_version(b.svc, b.svc.reals);  // same servers
        ServiceSnap carried = next_version(b.svc, b.svc.reals);
        carry_scheduler_state(carried, b.svc);
        b.svc = std::move(fresh);
        CHECK(letter(b.pick_to(d1)) == "C");  // not carried: an empty cache, wlc
        b.svc = std::move(carried);
        CHECK(letter(b.pick_to(d1)) == "A");  // carried: still A
        CHECK(letter(b.pick_to(d2)) == "B");

        // A version without A (its id gone): d1 moves, d2 stays.
        ServiceSnap without = next_version(b.svc, {b.svc.reals[1], b.svc.reals[2]});
        carry_scheduler_state(without, b.svc);
        b.svc = std::move(without);  // now B, C at indices 0, 1
        CHECK(letter(b.pick_to(d1)) == "B");  // wlc: C (index 1) idle
        CHECK(letter(b.pick_to(d2)) == "A");  // B, now index 0
    }
    // Different schedulers or worker counts do not share.
    SchedBench a(Scheduler::lblc, {1}), c(Scheduler::lblcr, {1}), two(Scheduler::lblc, {1}, 2);
    carry_scheduler_state(c.svc, a.svc);
    CHECK(c.svc.sched_scratch[0]->lblc == nullptr);
    carry_scheduler_state(two.svc, a.svc);
    CHECK(two.svc.sched_scratch[0]->lblc != a.svc.sched_scratch[0]->lblc);
}

TEST_CASE("lblcr: the set grows when its best server is overloaded", "[sched][lblcr]") {
    SchedBench b(Scheduler::lblcr, {10, 10, 10});
    CHECK(letter(b.pick_to(d1, 100)) == "A");
    CHECK(set_of(b, d1, 100) == "A");
    b.conns(0, 5);
    CHECK(letter(b.pick_to(d1, 200)) == "A");  // sticks although wlc would pick B
    CHECK(set_of(b, d1, 200) == "A");

    b.conns(0, 11);  // above its weight, and B, C are under half of theirs
    CHECK(letter(b.pick_to(d1, 300)) == "B");
    CHECK(set_of(b, d1, 300) == "BA");
    CHECK(letter(b.pick_to(d1, 400)) == "B");  // the set's least loaded

    b.conns(1, 11);  // B overloaded too; A and B tie, B is newer
    CHECK(letter(b.pick_to(d1, 500)) == "C");
    CHECK(set_of(b, d1, 500) == "CBA");

    SECTION("the set's least loaded member, newest first on ties") {
        b.actives({2, 2, 2});
        CHECK(letter(b.pick_to(d1, 600)) == "C");
        b.conns(2, 3);
        CHECK(letter(b.pick_to(d1, 600)) == "B");
        CHECK(set_of(b, d1, 600) == "CBA");
    }
    SECTION("members over their threshold are skipped in the set") {
        b.actives({1, 1, 1});
        b.thresholds(2, 1);
        CHECK(letter(b.pick_to(d1, 600)) == "B");
    }
    SECTION("after a day without change, the most loaded member leaves, once per day") {
        b.actives({9, 3, 0});
        CHECK(letter(b.pick_to(d1, 500 + day / 2)) == "C");  // used, so it does not expire
        CHECK(letter(b.pick_to(d1, 500 + day)) == "C");
        CHECK(set_of(b, d1, 500 + day) == "CBA");  // exactly a day: not yet
        CHECK(letter(b.pick_to(d1, 501 + day)) == "C");
        CHECK(set_of(b, d1, 501 + day) == "CB");  // A, the most loaded, left
        CHECK(letter(b.pick_to(d1, 502 + day)) == "C");
        CHECK(set_of(b, d1, 502 + day) == "CB");  // the set just changed
        CHECK(letter(b.pick_to(d1, 502 + day + day / 2)) == "C");  // used: the entry lives on
        CHECK(letter(b.pick_to(d1, 503 + 2 * day)) == "C");
        CHECK(set_of(b, d1, 503 + 2 * day) == "C");
        CHECK(letter(b.pick_to(d1, 503 + 2 * day + day / 2)) == "C");
        CHECK(letter(b.pick_to(d1, 504 + 3 * day)) == "C");
        CHECK(set_of(b, d1, 504 + 3 * day) == "C");  // one server stays
    }
    SECTION("a member picked this call may be the one that leaves") {
        b.actives({0, 0, 0});
        // All idle: C, the newest, is both the least and the most loaded.
        CHECK(letter(b.pick_to(d1, 500 + day / 2)) == "C");
        CHECK(letter(b.pick_to(d1, 501 + day)) == "C");
        CHECK(set_of(b, d1, 501 + day) == "BA");
    }
}

TEST_CASE("lblcr: a full set replaces its most loaded member", "[sched][lblcr]") {
    std::vector<uint32_t> weights(lblcr_set_max + 2, 10);
    SchedBench b(Scheduler::lblcr, weights);
    // Each pick is left overloaded (above its weight while idle servers remain), so the set's
    // best, A, is always overloaded and wlc adds the next idle server; later picks are more
    // loaded.
    for (size_t k = 0; k < weights.size(); ++k) {
        int d = b.pick_to(d1, Tick(k));
        CHECK(d == int(k));
        b.conns(size_t(d), 11 + k);
    }
    // I replaced H (the most loaded of the full set), then J replaced I.
    CHECK(set_of(b, d1, 100) == "JGFEDCBA");
}

TEST_CASE("lblc: nothing available", "[sched][lblc][lblcr]") {
    for (Scheduler s : {Scheduler::lblc, Scheduler::lblcr}) {
        SchedBench b(s, {0, 0});
        CHECK(b.pick_to(d1) == -1);
        SchedBench empty(s, {});
        CHECK(empty.pick_to(d1) == -1);
        SchedBench one(s, {1});
        CHECK(one.pick_to(d1) == 0);
        one.svc.reals[0].weight = 0;
        CHECK(one.pick_to(d1) == -1);
    }
}

TEST_CASE("LocalityCache: expiry, least recently used eviction, fixed size", "[sched][lblc]") {
    LocalityCache<LblcEntry> one_bucket(8);
    for (uint32_t i = 1; i <= 8; ++i) one_bucket.claim(i, Tick(i)).real_id = i;
    CHECK(one_bucket.live() == 8);
    LblcEntry* first = one_bucket.find(1, 9);
    REQUIRE(first);
    first->lastuse = 9;
    one_bucket.claim(9, 10);  // evicts 2, the least recently used
    CHECK(one_bucket.find(2, 10) == nullptr);
    CHECK(one_bucket.find(1, 10) != nullptr);
    CHECK(one_bucket.find(9, 10) != nullptr);
    CHECK(one_bucket.live() == 8);
    CHECK(one_bucket.find(3, 3 + day - 1) != nullptr);
    CHECK(one_bucket.find(3, 3 + day) == nullptr);  // expired, and freed
    CHECK(one_bucket.live() == 7);
    one_bucket.sweep(10 + day);  // frees every expired entry of the bucket
    CHECK(one_bucket.live() == 0);

    SchedBench b(Scheduler::lblc, {10, 10});
    for (uint32_t i = 0; i < 3 * locality_cache_entries; ++i) b.pick_to(be_addr(10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)));
    LblcCache& cache = *b.svc.sched_scratch[0]->lblc;
    CHECK(cache.live() <= locality_cache_entries);
    CHECK(cache.live() > locality_cache_entries * 9 / 10);
}
