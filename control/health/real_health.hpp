// One real server's health from its checkers, as keepalived's ipwrapper.c keeps it: the
// real server is alive while none of its checkers is down (num_failed_checkers == 0; one
// with no checkers is always alive), and dplb adds the dataplane's passive verdict (down
// for a while after failed connections). Down, it is out of the table, or in it with
// weight 0 under inhibit_on_failure. MISC_CHECK's misc_dynamic sets the weight it has
// while alive (update_svr_wgt).
//
// It also remembers the state it last gave out as an effect, so that effects come only on
// changes (take_effect).
//
// Threading: a value, used by one thread.
#pragma once

#include <cstdint>
#include <optional>

#include "control/health/health_effect.hpp"

namespace dplb::health {

class RealHealth {
public:
    // `failed_checkers`: how many start down (all of them under alpha).
    RealHealth(uint32_t weight, bool inhibit_on_failure, uint32_t failed_checkers);

    // keepalived's ISALIVE(rs).
    bool up() const { return failed_checkers_ == 0 && !passive_down_; }
    RealState state() const;
    // The weight it has while up: misc_dynamic's, else the configured one.
    uint32_t weight() const { return dynamic_weight_.value_or(weight_); }
    std::optional<uint32_t> dynamic_weight() const { return dynamic_weight_; }
    // What it adds to its virtual server's quorum (weigh_live_realservers).
    uint64_t alive_weight() const { return up() ? weight() : 0; }
    uint32_t failed_checkers() const { return failed_checkers_; }
    bool passive_down() const { return passive_down_; }

    void checker_went_down() {
        const bool was = up();
        ++failed_checkers_;
        count_flip(was);
    }
    void checker_went_up() {
        const bool was = up();
        if (failed_checkers_) --failed_checkers_;
        count_flip(was);
    }
    void set_passive_down(bool down) {
        const bool was = up();
        passive_down_ = down;
        count_flip(was);
    }
    // How many times up() flipped (either way) since this real server was first checked
    // (haproxy's check_up_down_total; /metrics dplb_real_server_check_transitions_total).
    uint64_t transitions() const { return transitions_; }
    // nullopt: the configured weight (no MISC_CHECK with misc_dynamic set one yet).
    void set_dynamic_weight(std::optional<uint32_t> w) { dynamic_weight_ = w; }
    // A reload: the file's weight and inhibit_on_failure, the health kept.
    void set_config(uint32_t weight, bool inhibit_on_failure) {
        weight_ = weight;
        inhibit_ = inhibit_on_failure;
    }

    // The effect that brings what was last given out to the current state, if they differ
    // (then it counts as given out).
    std::optional<RealEffect> take_effect(const config::ServiceKey&, Ip4 address, uint16_t port);
    // The current state as an effect, whatever was given out (a replay).
    RealEffect effect(const config::ServiceKey&, Ip4 address, uint16_t port) const;
    // A reload that starts this real server afresh still knows what was given out for it.
    void inherit_published(const RealHealth& old) {
        published_state_ = old.published_state_;
        published_weight_ = old.published_weight_;
    }

private:
    void count_flip(bool was_up) {
        if (was_up != up()) ++transitions_;
    }

    uint32_t weight_;
    bool inhibit_;
    uint32_t failed_checkers_;
    bool passive_down_ = false;
    uint64_t transitions_ = 0;
    std::optional<uint32_t> dynamic_weight_;
    // What the last effect said; a new real server is in the configuration up, at its weight.
    RealState published_state_ = RealState::up;
    std::optional<uint32_t> published_weight_;
};

}  // namespace dplb::health
