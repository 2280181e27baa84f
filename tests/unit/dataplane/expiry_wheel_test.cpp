// ExpiryWheel: expiry never early and at most one slot late, lazy extension, reschedule,
// the per-call budget, deadlines beyond the horizon, and the clock wrapping at 2^32.
#include <catch2/catch.hpp>
#include <map>
#include <vector>

#include "dataplane/session/expiry_wheel.hpp"

using namespace dplb;

namespace {

constexpr Tick width = ExpiryWheel::slot_width;
constexpr Tick horizon = ExpiryWheel::slot_count * ExpiryWheel::slot_width;

// A table and its wheel, driven one millisecond at a time; records when each session expired.
struct Sim {
    explicit Sim(Tick start, uint32_t capacity = 256) : table(capacity), wheel(table, start), now(start) {}

    Session* add(Tick expires) {
        FlowKey k(++serial, 1, 2, 3, 6);
        Session* s = table.insert(k, flow_hash(k), nullptr, 0);
        REQUIRE(s);
        s->expires = expires;
        wheel.add(s);
        return s;
    }
    unsigned step(Tick t, unsigned budget = 1u << 30) {
        now = t;
        return wheel.expire(t, budget, [&](Session* s) {
            CHECK(s->wheel_next == no_index);  // already off the wheel
            expired_at[s->orig.src] = t;
            table.erase(s);
        });
    }
    // Every millisecond from now + 1 to `until` inclusive (wrapping).
    void run_to(Tick until) {
        while (now != until) step(now + 1);
    }
    bool expired(const Session* s) const { return expired_at.count(key_of(s)) != 0; }
    Tick when(const Session* s) const { return expired_at.at(key_of(s)); }
    static uint32_t key_of(const Session* s) { return s->orig.src; }  // still valid after erase

    SessionTable table;
    ExpiryWheel wheel;
    Tick now;
    uint32_t serial = 0;
    std::map<uint32_t, Tick> expired_at;
};

// Checks a session with deadline `e` expired in [e, e + slot width].
void check_on_time(const Sim& sim, const Session* s, Tick e) {
    INFO("deadline " << e);
    REQUIRE(sim.expired(s));
    Tick t = sim.when(s);
    CHECK(tick_reached(t, e));
    CHECK(tick_reached(e + width, t));
}

}  // namespace

TEST_CASE("ExpiryWheel: sessions expire no earlier than `expires`, no later than one slot after", "[expiry_wheel]") {
    const Tick start = 1000;  // inside a slot, not at its start
    Sim sim(start);
    std::vector<std::pair<Session*, Tick>> all;
    for (Tick off : {0u, 1u, 23u, 24u, 127u, 128u, 129u, 1000u, 5000u, 60000u, 899999u, 1000000u}) {
        Tick e = start + off;
        all.push_back({sim.add(e), e});
    }
    // Deadlines already past when filed expire with the first slot.
    Session* past = sim.add(start - 50000);
    CHECK(sim.wheel.size() == all.size() + 1);
    sim.run_to(start + 1000000 + 2 * width);
    for (auto [s, e] : all) check_on_time(sim, s, e);
    REQUIRE(sim.expired(past));
    CHECK(sim.when(past) == (start & ~(width - 1)) + width);
    CHECK(sim.wheel.size() == 0);
    CHECK(sim.table.size() == 0);
}

TEST_CASE("ExpiryWheel: exact expiry tick is the end of the deadline's slot", "[expiry_wheel]") {
    Sim sim(0);
    std::vector<std::pair<Session*, Tick>> all;
    for (Tick e = 0; e < 5 * width; e += 17) all.push_back({sim.add(e), e});
    sim.run_to(6 * width);
    for (auto [s, e] : all) {
        INFO("deadline " << e);
        CHECK(sim.when(s) == (e | (width - 1)) + 1);
    }
}

TEST_CASE("ExpiryWheel: moving `expires` later without telling the wheel defers expiry", "[expiry_wheel]") {
    const Tick start = 77777;
    Sim sim(start);
    Session* s = sim.add(start + 1000);
    Session* control = sim.add(start + 1000);
    s->expires = start + 5000;  // what traffic does: a store, no wheel operation
    sim.run_to(start + 4000);
    CHECK(sim.expired(control));
    CHECK_FALSE(sim.expired(s));
    CHECK(sim.wheel.size() == 1);  // re-filed, still on the wheel
    s->expires = start + 700000;  // again, far
    sim.run_to(start + 800000);
    check_on_time(sim, s, start + 700000);
}

TEST_CASE("ExpiryWheel: reschedule() with a shorter deadline expires early", "[expiry_wheel]") {
    const Tick start = 5;
    Sim sim(start);
    Session* s = sim.add(start + 900000);
    Session* lazy = sim.add(start + 900000);
    s->expires = start + 2000;
    sim.wheel.reschedule(s);
    lazy->expires = start + 2000;  // not rescheduled: the wheel finds it only at its old slot
    CHECK(sim.wheel.size() == 2);
    sim.run_to(start + 3000);
    check_on_time(sim, s, start + 2000);
    CHECK_FALSE(sim.expired(lazy));
    sim.run_to(start + 900000 + width);
    REQUIRE(sim.expired(lazy));
    CHECK(tick_reached(sim.when(lazy), start + 900000));  // late, as documented
}

TEST_CASE("ExpiryWheel: remove() takes a session off for good", "[expiry_wheel]") {
    Sim sim(0);
    Session* s = sim.add(300);
    Session* t = sim.add(300);
    sim.wheel.remove(s);
    sim.wheel.remove(s);  // twice is harmless
    CHECK(s->wheel_next == no_index);
    CHECK(sim.wheel.size() == 1);
    sim.run_to(2000);
    CHECK_FALSE(sim.expired(s));
    CHECK(sim.expired(t));
    CHECK(sim.wheel.size() == 0);
}

TEST_CASE("ExpiryWheel: the budget bounds the work per call; the rest expire on later calls", "[expiry_wheel]") {
    const Tick start = 0;
    Sim sim(start);
    for (int i = 0; i < 95; ++i) sim.add(start + 10 + Tick(i));
    // Five more whose deadline moved far: handling them (re-filing) also costs budget.
    std::vector<Session*> moved;
    for (int i = 0; i < 5; ++i) {
        moved.push_back(sim.add(start + 20));
        moved.back()->expires = start + 100000;
    }
    const Tick t = start + 1000;
    std::vector<unsigned> per_call;
    for (int call = 0; call < 12; ++call) {
        size_t before = sim.expired_at.size();
        unsigned done = sim.step(t, 10);
        per_call.push_back(done);
        CHECK(done <= 10);
        CHECK(sim.expired_at.size() - before <= done);
    }
    const std::vector<unsigned> want = {10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0, 0};
    CHECK(per_call == want);
    CHECK(sim.expired_at.size() == 95);
    for (Session* s : moved) CHECK_FALSE(sim.expired(s));
    CHECK(sim.wheel.size() == 5);
    CHECK(sim.step(t, 0) == 0);
}

TEST_CASE("ExpiryWheel: deadlines beyond the ~17 min horizon", "[expiry_wheel]") {
    const Tick start = 123456;
    Sim sim(start);
    std::vector<std::pair<Session*, Tick>> all;
    for (Tick off : {horizon - width - 1, horizon - width, horizon - 1, horizon, horizon + 1, horizon + 5000,
                     2 * horizon + 77, 30 * 60 * 1000u, 60 * 60 * 1000u})
        all.push_back({sim.add(start + off), start + off});
    sim.run_to(start + 60 * 60 * 1000u + 2 * width);
    for (auto [s, e] : all) check_on_time(sim, s, e);
    CHECK(sim.wheel.size() == 0);
}

TEST_CASE("ExpiryWheel: the clock wrapping through 2^32", "[expiry_wheel]") {
    for (Tick start : {Tick(0xffffffffu - 3000), Tick(0xffffffffu), Tick(0xffffffffu - 127)}) {
        INFO("start " << start);
        Sim sim(start);
        std::vector<std::pair<Session*, Tick>> all;
        for (Tick off : {1u, 1000u, 2999u, 3000u, 3001u, 3128u, 10000u, horizon + 3u})
            all.push_back({sim.add(start + off), start + off});
        sim.run_to(start + horizon + 3 + 2 * width);
        for (auto [s, e] : all) check_on_time(sim, s, e);
    }
}

TEST_CASE("ExpiryWheel: an idle gap longer than the horizon", "[expiry_wheel]") {
    // The worker did not call expire() for 40 minutes; everything due expires in one call
    // with a large budget, and a deadline still in the future does not.
    const Tick start = 1;
    Sim sim(start);
    Session* a = sim.add(start + 1000);
    Session* b = sim.add(start + 20 * 60 * 1000);
    Session* c = sim.add(start + 50 * 60 * 1000);
    sim.step(start + 40 * 60 * 1000);
    CHECK(sim.expired(a));
    CHECK(sim.expired(b));
    CHECK_FALSE(sim.expired(c));
    sim.run_to(start + 50 * 60 * 1000 + 2 * width);
    check_on_time(sim, c, start + 50 * 60 * 1000);
}
