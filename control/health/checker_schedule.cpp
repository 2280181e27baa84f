#include "control/health/checker_schedule.hpp"

#include <algorithm>

namespace dplb::health {

Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::max(s, 0.0)));
}

CheckerSchedule::CheckerSchedule(const CheckerTiming& t, bool up, Clock::time_point start, double warmup_draw)
    : timing_(t),
      up_(up),
      // keepalived (check_parser.c): "one failure is enough initially".
      retry_it_(t.retry),
      next_(start + seconds(bootstrap_delay + t.warmup * std::clamp(warmup_draw, 0.0, 1.0))) {}

Clock::time_point CheckerSchedule::start_attempt(Clock::time_point now) {
    running_ = true;
    next_ = now;
    deadline_ = now + seconds(timing_.attempt_timeout);
    return deadline_;
}

CheckerEvent CheckerSchedule::finish_attempt(bool success, Clock::time_point now) {
    running_ = false;
    failures_ = success ? 0 : failures_ + 1;
    CheckerEvent event = CheckerEvent::none;
    if (success || retry_it_ >= timing_.retry) {
        next_ = now + seconds(timing_.delay_loop);
        retry_it_ = 0;
        if (success && !up_) {
            up_ = true;
            event = CheckerEvent::went_up;
        } else if (!success && (up_ || !has_run_)) {
            event = up_ ? CheckerEvent::went_down : CheckerEvent::confirmed_down;
            up_ = false;
        }
    } else {
        // A retry: counted whatever the state (a down checker retries too, as tcp_epilog).
        next_ = now + seconds(timing_.delay_before_retry);
        ++retry_it_;
    }
    has_run_ = true;
    return event;
}

}  // namespace dplb::health
