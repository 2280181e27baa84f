// What the health engine decides, as the configuration must show it: the controller turns
// these into typed changes (model/change.hpp) and pushes them by the incremental path.
//
// Threading: plain values.
#pragma once

#include <cstdint>
#include <optional>

#include "dplb/config.hpp"
#include "dplb/ip4.hpp"

namespace dplb::health {

// keepalived's two ways of taking a failed real server out of IPVS.
enum class RealState : uint8_t {
    up,         // in the table with its weight (or the MISC_CHECK dynamic weight)
    removed,    // down: out of the table
    inhibited,  // down with inhibit_on_failure: in the table with weight 0
};

struct RealEffect {
    config::ServiceKey service;
    Ip4 address;
    uint16_t port = 0;
    RealState state = RealState::up;
    std::optional<uint32_t> weight;  // misc_dynamic's weight while up; nullopt = configured

    friend bool operator==(const RealEffect&, const RealEffect&) = default;
};

// The sorry server replaces every real server while the service's quorum is lost.
struct SorryEffect {
    config::ServiceKey service;
    bool active = false;

    friend bool operator==(const SorryEffect&, const SorryEffect&) = default;
};

}  // namespace dplb::health
