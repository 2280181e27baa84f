#include "control/health/real_health.hpp"

namespace dplb::health {

RealHealth::RealHealth(uint32_t weight, bool inhibit_on_failure, uint32_t failed_checkers)
    : weight_(weight), inhibit_(inhibit_on_failure), failed_checkers_(failed_checkers) {}

RealState RealHealth::state() const {
    if (up()) return RealState::up;
    return inhibit_ ? RealState::inhibited : RealState::removed;
}

RealEffect RealHealth::effect(const config::ServiceKey& service, Ip4 address, uint16_t port) const {
    RealState s = state();
    // The weight matters only in the table; a dynamic one survives the down time and comes
    // back with the real server.
    return RealEffect{service, address, port, s, s == RealState::up ? dynamic_weight_ : std::nullopt};
}

std::optional<RealEffect> RealHealth::take_effect(const config::ServiceKey& service, Ip4 address, uint16_t port) {
    RealEffect e = effect(service, address, port);
    if (e.state == published_state_ && e.weight == published_weight_) return std::nullopt;
    published_state_ = e.state;
    published_weight_ = e.weight;
    return e;
}

}  // namespace dplb::health
