#include "dataplane/runtime/link_recovery.hpp"

#include <algorithm>

namespace dplb::runtime {

LinkRecovery::LinkRecovery(bool may_restart, LinkBackoff backoff)
    : cfg_(backoff), may_restart_(may_restart), backoff_(backoff.first_ms) {}

LinkRecovery::Action LinkRecovery::observe(Tick now, bool up) {
    if (pending_) return Action::none;
    if (up_ == up) {
        if (up_ || !may_restart_ || !tick_reached(now, next_attempt_)) return Action::none;
        pending_ = true;
        ++attempts_;
        ++outage_attempts_;
        return Action::restart;
    }
    up_ = up;
    if (!up) {
        ++down_events_;
        down_since_ = now;
        backoff_ = cfg_.first_ms;
        next_attempt_ = now + backoff_;
        outage_attempts_ = 0;
        return Action::went_down;
    }
    ++recoveries_;
    last_outage_ms_ = now - down_since_;
    return Action::came_up;
}

void LinkRecovery::restarted(Tick now, bool started) {
    pending_ = false;
    if (!started) ++failures_;
    backoff_ = std::min<Tick>(backoff_ * 2, cfg_.max_ms);
    next_attempt_ = now + backoff_;
}

}  // namespace dplb::runtime
