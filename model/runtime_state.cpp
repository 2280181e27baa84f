#include "model/runtime_state.hpp"

#include <algorithm>
#include <unordered_map>

#include "common/overloaded.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

void clear_runtime_state(cfg::RealServer& r) {
    r.health = cfg::RealHealth::up;
    r.dynamic_weight.reset();
}

void clear_runtime_state(cfg::Service& s) {
    s.sorry_active = false;
    for (auto& r : s.reals) clear_runtime_state(r);
}

void clear_runtime_state(cfg::Config& c) {
    for (auto& s : c.services) clear_runtime_state(s);
}

bool has_runtime_state(const cfg::RealServer& r) { return r.health != cfg::RealHealth::up || r.dynamic_weight; }

bool has_runtime_state(const cfg::Service& s) {
    return s.sorry_active ||
           std::any_of(s.reals.begin(), s.reals.end(), [](const cfg::RealServer& r) { return has_runtime_state(r); });
}

bool has_runtime_state(const Batch& batch) {
    auto any_service = [](const std::vector<cfg::Service>& services) {
        return std::any_of(services.begin(), services.end(), [](const cfg::Service& s) { return has_runtime_state(s); });
    };
    for (const Change& change : batch.changes) {
        bool runtime = std::visit(Overloaded{
                                      [](const AddService& c) { return has_runtime_state(c.service); },
                                      [](const EditService& c) { return c.service.sorry_active; },
                                      [](const AddReal& c) { return has_runtime_state(c.real); },
                                      [](const EditReal& c) { return has_runtime_state(c.real); },
                                      [&](const ReplaceConfig& c) { return any_service(c.config.services); },
                                      [](const SetRealHealth&) { return true; },
                                      [](const SetSorryActive&) { return true; },
                                      [](const auto&) { return false; },
                                  },
                                  change);
        if (runtime) return true;
    }
    return false;
}

void carry_runtime_state(cfg::Service& next, const cfg::Service& current) {
    next.sorry_active = current.sorry_active && next.sorry_server.has_value();
    // A service may have thousands of real servers: no nested scan.
    std::unordered_map<uint64_t, const cfg::RealServer*> before;
    before.reserve(current.reals.size());
    for (const auto& r : current.reals)
        if (has_runtime_state(r)) before.emplace(uint64_t(r.address.host()) << 16 | r.port, &r);
    for (auto& r : next.reals) {
        clear_runtime_state(r);
        auto it = before.find(uint64_t(r.address.host()) << 16 | r.port);
        if (it == before.end()) continue;
        r.health = it->second->health;
        r.dynamic_weight = it->second->dynamic_weight;
    }
}

void carry_runtime_state(cfg::Config& next,
                         const std::function<const cfg::Service*(const cfg::ServiceKey&)>& find) {
    for (auto& s : next.services) {
        if (const cfg::Service* current = find(s.key))
            carry_runtime_state(s, *current);
        else
            clear_runtime_state(s);
    }
}

}  // namespace dplb::model
