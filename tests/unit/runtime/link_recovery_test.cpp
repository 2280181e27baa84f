// Link faults (docs/hardening.md): LinkRecovery's decisions and back-off over time, and the
// workers' PortGate, both without EAL.
#include <catch2/catch.hpp>

#include <vector>

#include "dataplane/runtime/link_recovery.hpp"
#include "dataplane/runtime/port_link.hpp"

using namespace dplb;
using namespace dplb::runtime;
using A = LinkRecovery::Action;

namespace {

// Observes a down link every ms from `from` to `to` (inclusive); returns the ticks at which a
// restart was asked for, carrying each out at once with result `started`.
std::vector<Tick> run_down(LinkRecovery& r, Tick from, Tick to, bool started) {
    std::vector<Tick> at;
    for (Tick t = from; t <= to; ++t)
        if (r.observe(t, false) == A::restart) {
            at.push_back(t);
            r.restarted(t, started);
        }
    return at;
}

}  // namespace

TEST_CASE("link recovery: a link that stays up asks for nothing") {
    LinkRecovery r(true);
    for (Tick t = 0; t < 10000; t += 10) REQUIRE(r.observe(t, true) == A::none);
    CHECK(r.down_events() == 0);
    CHECK(r.attempts() == 0);
}

TEST_CASE("link recovery: restarts back off 100 ms doubling to 5 s while the start fails") {
    LinkRecovery r(true);
    REQUIRE(r.observe(1000, false) == A::went_down);
    CHECK(r.down_since() == 1000);
    CHECK(r.down_events() == 1);
    const std::vector<Tick> at = run_down(r, 1001, 1000 + 40000, false);
    // 100, then 200, 400, 800, 1600, 3200, then 5000 each.
    const std::vector<Tick> gaps_expected = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000};
    REQUIRE(at.size() >= gaps_expected.size());
    Tick prev = 1000;
    for (size_t i = 0; i < gaps_expected.size(); ++i) {
        CHECK(at[i] - prev == gaps_expected[i]);
        prev = at[i];
    }
    CHECK(r.attempts() == at.size());
    CHECK(r.failures() == at.size());
    CHECK(r.outage_attempts() == at.size());
    CHECK(r.backoff_ms() == 5000);
}

TEST_CASE("link recovery: a restart that starts the port but no link yet also backs off") {
    LinkRecovery r(true, LinkBackoff{50, 400});
    REQUIRE(r.observe(0, false) == A::went_down);
    const std::vector<Tick> at = run_down(r, 1, 2000, true);
    REQUIRE(at.size() >= 5);
    CHECK(at[0] == 50);
    CHECK(at[1] == 150);
    CHECK(at[2] == 350);
    CHECK(at[3] == 750);
    CHECK(at[4] == 1150);  // capped at 400
    CHECK(r.failures() == 0);
}

TEST_CASE("link recovery: nothing is asked while a restart is pending") {
    LinkRecovery r(true);
    REQUIRE(r.observe(0, false) == A::went_down);
    REQUIRE(r.observe(100, false) == A::restart);
    CHECK(r.restart_pending());
    for (Tick t = 101; t < 10000; t += 7) REQUIRE(r.observe(t, t % 2) == A::none);
    r.restarted(10000, true);
    CHECK_FALSE(r.restart_pending());
    CHECK(r.observe(10000, true) == A::came_up);
}

TEST_CASE("link recovery: coming back counts a recovery, its outage and restarts, and resets the back-off") {
    LinkRecovery r(true);
    REQUIRE(r.observe(500, false) == A::went_down);
    run_down(r, 501, 2000, false);  // restarts at 600, 800, 1200, 2000
    CHECK(r.outage_attempts() == 4);
    REQUIRE(r.observe(2100, true) == A::came_up);
    CHECK(r.recoveries() == 1);
    CHECK(r.last_outage_ms() == 1600);
    CHECK(r.outage_attempts() == 4);  // kept for the log line until the next outage
    // The next outage starts over at 100 ms.
    REQUIRE(r.observe(5000, false) == A::went_down);
    CHECK(r.outage_attempts() == 0);
    CHECK(r.observe(5099, false) == A::none);
    CHECK(r.observe(5100, false) == A::restart);
    CHECK(r.down_events() == 2);
    CHECK(r.attempts() == 5);
}

TEST_CASE("link recovery: a watched port is counted but never restarted") {
    LinkRecovery r(false);
    REQUIRE(r.observe(0, false) == A::went_down);
    for (Tick t = 1; t < 60000; t += 10) REQUIRE(r.observe(t, false) == A::none);
    REQUIRE(r.observe(60000, true) == A::came_up);
    CHECK(r.attempts() == 0);
    CHECK(r.recoveries() == 1);
    CHECK(r.last_outage_ms() == 60000);
}

TEST_CASE("link recovery: the back-off survives the millisecond clock wrapping") {
    LinkRecovery r(true);
    const Tick start = Tick(0) - 150;  // 150 ms before the wrap
    REQUIRE(r.observe(start, false) == A::went_down);
    CHECK(r.observe(start + 99, false) == A::none);
    CHECK(r.observe(start + 100, false) == A::restart);
    r.restarted(start + 100, false);
    CHECK(r.observe(start + 299, false) == A::none);  // after the wrap
    CHECK(r.observe(start + 300, false) == A::restart);
}

TEST_CASE("port gate: a paused port closes at the next refresh and a restarted one is re-armed") {
    std::atomic<uint32_t> epoch{0};
    PortLink links[3];
    PortGate gate(epoch, links, 3);
    std::vector<uint16_t> rearmed;
    auto rearm = [&](uint16_t p) { rearmed.push_back(p); };
    gate.refresh(rearm);
    CHECK(gate.open(0));
    CHECK(gate.open(1));
    CHECK(gate.open(2));

    // Paused without an epoch bump: not seen (the epoch is what workers load).
    links[1].paused.store(true);
    gate.refresh(rearm);
    CHECK(gate.open(1));
    epoch.fetch_add(1);
    gate.refresh(rearm);
    CHECK_FALSE(gate.open(1));
    CHECK(gate.open(0));
    CHECK(rearmed.empty());

    // Restarted: open again and re-armed once.
    links[1].paused.store(false);
    links[1].restarts.fetch_add(1);
    epoch.fetch_add(1);
    gate.refresh(rearm);
    CHECK(gate.open(1));
    REQUIRE(rearmed == std::vector<uint16_t>{1});
    epoch.fetch_add(1);
    gate.refresh(rearm);
    CHECK(rearmed.size() == 1);

    // A start that failed leaves the port paused: closed, not re-armed.
    links[2].paused.store(true);
    epoch.fetch_add(1);
    gate.refresh(rearm);
    CHECK_FALSE(gate.open(2));
    CHECK(rearmed.size() == 1);
}
