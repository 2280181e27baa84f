// One checker's timing and up/down state, as keepalived 2.2's checkers keep them
// (check_api.c register_checkers_thread, check_tcp.c tcp_epilog):
//
//  - the first attempt is due 1 s (keepalived's BOOTSTRAP_DELAY) after the start, plus a
//    random part of `warmup` (which defaults to delay_loop: keepalived scatters by default);
//  - a success makes the checker up and the next attempt comes delay_loop after it;
//  - a failure while retries are left (retry_it < retry) only counts one more retry and the
//    next attempt comes delay_before_retry after it; once they are used up, the checker is
//    down (if it was up, or had never run) and the next attempt comes delay_loop after it.
//    So `retry N` takes N+1 failed attempts in a row to take an up checker down;
//  - at the start the retries are spent already ("one failure is enough initially"): a
//    checker that never ran goes down on its first failure, alpha or not;
//  - a checker starting down (alpha) whose first attempt fails reports `confirmed_down`:
//    keepalived notifies the real server's down state then (update_svr_checker_state).
//
// The delays count from the end of an attempt (keepalived arms its timer in the epilogue).
// Pure: no clock reads, no I/O; the engine passes the times.
//
// Threading: a value, used by one thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace dplb::health {

using Clock = std::chrono::steady_clock;

// Seconds (fractions allowed, as keepalived's timers) as a clock duration.
Clock::duration seconds(double s);

struct CheckerTiming {
    double delay_loop = 60;
    double delay_before_retry = 1;
    uint32_t retry = 1;
    double warmup = 0;           // resolved: the largest random first delay; 0 = none
    double attempt_timeout = 5;  // one attempt's deadline after its start
};

// What one finished attempt changed.
enum class CheckerEvent : uint8_t {
    none,
    went_up,
    went_down,
    confirmed_down,  // a checker that started down (alpha) failed its first attempt
};

// keepalived's BOOTSTRAP_DELAY: every checker's first attempt waits at least this.
inline constexpr double bootstrap_delay = 1.0;

class CheckerSchedule {
public:
    // `up`: the starting state (down with alpha). `warmup_draw` in [0, 1] picks the random
    // part of the first delay.
    CheckerSchedule(const CheckerTiming&, bool up, Clock::time_point start, double warmup_draw);

    bool up() const { return up_; }
    bool has_run() const { return has_run_; }
    bool running() const { return running_; }
    // Failed attempts since the last success (for the listing; retry counts its own way).
    uint32_t failures_in_a_row() const { return failures_; }
    // Idle: when the next attempt is due. Running: when the attempt started.
    Clock::time_point next_run() const { return next_; }
    // Running: when the attempt times out.
    Clock::time_point deadline() const { return deadline_; }
    const CheckerTiming& timing() const { return timing_; }

    // Starts the attempt that is due (precondition: !running()); returns its deadline.
    Clock::time_point start_attempt(Clock::time_point now);
    // The attempt ended: a result, or the deadline passed (a failure). Schedules the next.
    CheckerEvent finish_attempt(bool success, Clock::time_point now);

    // A reload changed the timing (the virtual server's delay_loop): it applies from the
    // next scheduling; the one pending stays.
    void set_timing(const CheckerTiming& t) { timing_ = t; }

private:
    CheckerTiming timing_;
    bool up_;
    bool has_run_ = false;
    bool running_ = false;
    uint32_t retry_it_;  // keepalived's retry_it: retries used in this round
    uint32_t failures_ = 0;
    Clock::time_point next_;
    Clock::time_point deadline_{};
};

}  // namespace dplb::health
