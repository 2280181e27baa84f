// One checker's timing (CheckerSchedule) against keepalived 2.2's: the bootstrap second
// and warmup, retry and delay_before_retry counted from the end of each attempt, "one
// failure is enough initially", alpha.
#include <catch2/catch.hpp>

#include "control/health/checker_schedule.hpp"

using namespace dplb::health;

namespace {

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

Clock::time_point at(double s) { return t0 + seconds(s); }

CheckerTiming timing(double delay_loop, uint32_t retry, double delay_before_retry, double warmup = 0) {
    return CheckerTiming{delay_loop, delay_before_retry, retry, warmup, 3};
}

// Runs the attempt that is due with this outcome, at its due time.
CheckerEvent run(CheckerSchedule& s, bool success) {
    Clock::time_point when = s.next_run();
    s.start_attempt(when);
    return s.finish_attempt(success, when);
}

}  // namespace

TEST_CASE("schedule: delay_loop 6, retry 3, delay_before_retry 2 takes an up checker down on the 4th failure") {
    CheckerSchedule s(timing(6, 3, 2), true, t0, 0.0);
    CHECK(s.next_run() == at(1));  // keepalived's BOOTSTRAP_DELAY, no warmup
    CHECK(run(s, true) == CheckerEvent::none);  // up already: nothing to say
    CHECK(s.next_run() == at(7));
    CHECK(run(s, false) == CheckerEvent::none);  // retry 1
    CHECK(s.next_run() == at(9));
    CHECK(run(s, false) == CheckerEvent::none);  // retry 2
    CHECK(s.next_run() == at(11));
    CHECK(run(s, false) == CheckerEvent::none);  // retry 3
    CHECK(s.next_run() == at(13));
    CHECK(s.up());
    CHECK(s.failures_in_a_row() == 3);
    CHECK(run(s, false) == CheckerEvent::went_down);  // the 4th failure in a row, at 13
    CHECK_FALSE(s.up());
    CHECK(s.next_run() == at(19));
    CHECK(run(s, true) == CheckerEvent::went_up);  // one success is enough to come back
    CHECK(s.next_run() == at(25));
    CHECK(s.failures_in_a_row() == 0);
}

TEST_CASE("schedule: a success in the middle of the retries starts the count again") {
    CheckerSchedule s(timing(6, 2, 1), true, t0, 0.0);
    run(s, true);                 // 1
    run(s, false);                // 7: retry 1
    run(s, true);                 // 8: back to delay_loop
    CHECK(s.next_run() == at(14));
    CHECK(run(s, false) == CheckerEvent::none);       // 14
    CHECK(run(s, false) == CheckerEvent::none);       // 15
    CHECK(run(s, false) == CheckerEvent::went_down);  // 16: the third in a row
}

TEST_CASE("schedule: the delays count from the end of the attempt") {
    CheckerSchedule s(timing(6, 1, 2), true, t0, 0.0);
    run(s, true);
    s.start_attempt(at(7));
    CHECK(s.running());
    CHECK(s.deadline() == at(10));  // attempt_timeout 3
    CHECK(s.next_run() == at(7));   // while running: its start
    CHECK(s.finish_attempt(false, at(10)) == CheckerEvent::none);  // timed out at its deadline
    CHECK(s.next_run() == at(12));
}

TEST_CASE("schedule: one failure is enough initially, whatever retry says") {
    CheckerSchedule s(timing(6, 5, 1), true, t0, 0.0);
    CHECK(run(s, false) == CheckerEvent::went_down);
    CHECK(s.next_run() == at(7));
}

TEST_CASE("schedule: retry 0 takes an up checker down on its first failure") {
    CheckerSchedule s(timing(5, 0, 1), true, t0, 0.0);
    run(s, true);
    CHECK(run(s, false) == CheckerEvent::went_down);
    CHECK(s.next_run() == at(11));
}

TEST_CASE("schedule: alpha starts down; its first failure confirms it, its first success brings it up") {
    CheckerSchedule a(timing(6, 3, 2), false, t0, 0.0);
    CHECK_FALSE(a.up());
    CHECK(run(a, false) == CheckerEvent::confirmed_down);
    CHECK(a.next_run() == at(7));
    CHECK(run(a, false) == CheckerEvent::none);  // down and known: retries, says nothing
    CHECK(a.next_run() == at(9));

    CheckerSchedule b(timing(6, 3, 2), false, t0, 0.0);
    CHECK(run(b, true) == CheckerEvent::went_up);
    CHECK(b.up());
}

TEST_CASE("schedule: a down checker keeps retrying at delay_before_retry, then delay_loop (tcp_epilog)") {
    CheckerSchedule s(timing(6, 2, 1), true, t0, 0.0);
    CHECK(run(s, false) == CheckerEvent::went_down);  // 1
    CHECK(run(s, false) == CheckerEvent::none);       // 7
    CHECK(s.next_run() == at(8));
    CHECK(run(s, false) == CheckerEvent::none);  // 8
    CHECK(s.next_run() == at(9));
    CHECK(run(s, false) == CheckerEvent::none);  // 9: retries used up
    CHECK(s.next_run() == at(15));
}

TEST_CASE("schedule: warmup spreads the first attempt over [1 s, 1 s + warmup]") {
    CHECK(CheckerSchedule(timing(6, 1, 1, 10), true, t0, 0.0).next_run() == at(1));
    CHECK(CheckerSchedule(timing(6, 1, 1, 10), true, t0, 1.0).next_run() == at(11));
    CHECK(CheckerSchedule(timing(6, 1, 1, 10), true, t0, 0.25).next_run() == at(3.5));
    CHECK(CheckerSchedule(timing(6, 1, 1, 0), true, t0, 0.9).next_run() == at(1));  // warmup 0: none
}
