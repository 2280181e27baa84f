#include "dataplane/stats/rate_tracker.hpp"

namespace dplb {

RateTracker::RateTracker(uint32_t max_services, uint32_t max_reals) : services_(max_services), reals_(max_reals) {}

void RateTracker::begin_round(double now_seconds) {
    seconds_ = last_round_ < 0 ? 0 : now_seconds - last_round_;
    last_round_ = now_seconds;
}

void RateTracker::feed(std::vector<Slot>& slots, uint32_t id, const model::Counters& now) {
    if (id >= slots.size()) return;
    Slot& s = slots[id];
    if (s.seen && seconds_ > 0) model::update_estimate(s.est, now, seconds_);
    else s.est.last = now;
    s.seen = true;
}

void RateTracker::service(uint32_t id, const model::Counters& now) { feed(services_, id, now); }
void RateTracker::real(uint32_t id, const model::Counters& now) { feed(reals_, id, now); }

model::Rates RateTracker::service_rates(uint32_t id) const {
    return id < services_.size() ? model::read_estimate(services_[id].est) : model::Rates{};
}

model::Rates RateTracker::real_rates(uint32_t id) const {
    return id < reals_.size() ? model::read_estimate(reals_[id].est) : model::Rates{};
}

void RateTracker::reset_service(uint32_t id, const model::Counters& now) {
    if (id < services_.size()) services_[id] = Slot{model::RateEstimate{now}, true};
}

void RateTracker::reset_real(uint32_t id, const model::Counters& now) {
    if (id < reals_.size()) reals_[id] = Slot{model::RateEstimate{now}, true};
}

void RateTracker::forget_service(uint32_t id) {
    if (id < services_.size()) services_[id] = Slot{};
}

void RateTracker::forget_real(uint32_t id) {
    if (id < reals_.size()) reals_[id] = Slot{};
}

}  // namespace dplb
