#include "control/health/status_json.hpp"

#include <chrono>

#include "codec/config_json.hpp"

namespace dplb::health {

using nlohmann::json;

const char* to_string(RealState s) {
    switch (s) {
        case RealState::up: return "up";
        case RealState::removed: return "removed";
        case RealState::inhibited: return "inhibited";
    }
    return "?";
}

namespace {

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

std::string address_port(Ip4 a, uint16_t port) { return a.str() + ":" + std::to_string(port); }

json checker_json(const CheckerStatus& c, Clock::time_point now) {
    json j{{"type", keepalived::keyword_of(c.type)},
           {"target", address_port(c.target.address, c.target.port)},
           {"up", c.up},
           {"failures_in_a_row", c.failures_in_a_row},
           {"last_result", c.last_result ? json(*c.last_result ? "up" : "down") : json(nullptr)},
           {"last_failure", c.last_failure},
           {"since_seconds", seconds_between(c.last_change, now)},
           {"next_in_seconds", seconds_between(now, c.next_run)}};
    return j;
}

}  // namespace

json to_json(const std::vector<ServiceStatus>& services, Clock::time_point now) {
    json list = json::array();
    for (const auto& s : services) {
        json reals = json::array();
        for (const auto& r : s.reals) {
            json checkers = json::array();
            for (const auto& c : r.checkers) checkers.push_back(checker_json(c, now));
            reals.push_back(json{{"address", r.address.str()},
                                 {"port", r.port},
                                 {"state", to_string(r.state)},
                                 {"weight", r.weight ? json(*r.weight) : json(nullptr)},
                                 {"passive_down", r.passive_down},
                                 {"checkers", std::move(checkers)}});
        }
        list.push_back(json{{"service", model::key_to_json(s.service)},
                            {"quorum_up", s.quorum_up},
                            {"sorry_active", s.sorry_active},
                            {"alive_weight", s.alive_weight},
                            {"reals", std::move(reals)}});
    }
    return json{{"ok", true}, {"services", std::move(list)}};
}

}  // namespace dplb::health
