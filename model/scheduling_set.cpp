#include "model/scheduling_set.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

namespace {

ScheduledServer from_real(const cfg::RealServer& r, uint32_t weight) {
    return {&r, r.address, r.port, r.forward, weight, r.upper_threshold, r.lower_threshold};
}

ScheduledServer from_sorry(const cfg::SorryServer& s, uint32_t weight) {
    return {nullptr, s.address, s.port, s.forward, weight, 0, 0};
}

bool same_place(const cfg::RealServer& r, const cfg::SorryServer& s) { return r.address == s.address && r.port == s.port; }

}  // namespace

cfg::RealServer sorry_as_real(const cfg::SorryServer& s) {
    cfg::RealServer r;
    r.address = s.address;
    r.port = s.port;
    r.forward = s.forward;
    r.weight = cfg::sorry_server_weight;
    return r;
}

std::vector<ScheduledServer> scheduling_set(const cfg::Service& svc) {
    std::vector<ScheduledServer> out;
    out.reserve(svc.reals.size() + 1);
    const cfg::SorryServer* sorry = svc.sorry_server ? &*svc.sorry_server : nullptr;
    if (sorry && svc.sorry_active) {
        for (const auto& r : svc.reals)
            if (r.health == cfg::RealHealth::inhibited && !same_place(r, *sorry)) out.push_back(from_real(r, 0));
        out.push_back(from_sorry(*sorry, cfg::sorry_server_weight));
        return out;
    }
    bool sorry_taken = false;  // a real server in the set has the sorry server's place
    for (const auto& r : svc.reals) {
        if (r.health == cfg::RealHealth::removed) continue;
        uint32_t weight = r.health == cfg::RealHealth::inhibited ? 0 : r.dynamic_weight.value_or(r.weight);
        out.push_back(from_real(r, weight));
        sorry_taken = sorry_taken || (sorry && same_place(r, *sorry));
    }
    if (sorry && sorry->inhibit && !sorry_taken) out.push_back(from_sorry(*sorry, 0));
    return out;
}

}  // namespace dplb::model
