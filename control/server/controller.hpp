// What dplb-control does with one request: the configuration it owns, the order of
// validate -> write temporary state file -> push to the dataplane -> rename -> commit, the
// re-push on every dataplane (re)connection, counters with zero baselines, rate estimates
// from the event loop's periodic samples, the connection table, and status.
// Sockets other than the dataplane link are the event loop's business (event_loop.hpp).
//
// Threading: owned and called by the control process's single event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/api/rate_estimator.hpp"
#include "control/api/zero_baselines.hpp"
#include "control/dataplane_link/dataplane_link.hpp"
#include "model/stats.hpp"
#include "control/state/state_file.hpp"
#include "dplb/config.hpp"
#include "codec/stats_json.hpp"

namespace dplb::server {

using Logger = std::function<void(std::string_view)>;

class Controller {
public:
    // `initial` is what the state file held at start.
    Controller(config::Config initial, state::StateFile state, dataplane_link::DataplaneLink& link, Logger log);

    // One request line in, one reply object out (never throws, always has "ok").
    nlohmann::json handle_line(std::string_view line);
    nlohmann::json handle(const nlohmann::json& request);

    // The link has just connected: push the whole configuration before anything else.
    void on_dataplane_connected();

    // The request the event loop sends every sampling interval for the rate estimates, and
    // what came back (a `stats` reply, or why there is none).
    static nlohmann::json sample_request();
    void on_stats_sample(const model::Result<nlohmann::json>& reply, std::chrono::steady_clock::time_point now);
    const api::RateEstimator& rates() const { return rates_; }

    const config::Config& config() const { return config_; }
    uint64_t generation() const { return generation_; }

private:
    nlohmann::json dispatch(const std::string& cmd, const nlohmann::json& request);
    nlohmann::json change(const config::Config& next);
    // The dataplane's counters (cumulative), or nullopt when it is not reachable.
    std::optional<model::StatsSnapshot> fetch_stats();
    // A `stats` reply decoded, or nullopt (logged) when there is none or it is unusable.
    std::optional<model::StatsSnapshot> decode_stats(const model::Result<nlohmann::json>& reply);
    nlohmann::json status_reply();
    nlohmann::json connections_reply(const nlohmann::json& request);
    nlohmann::json query(const std::string& cmd, const nlohmann::json& request);
    const char* dataplane_state() const;

    config::Config config_;
    uint64_t generation_ = 1;  // of config_; 1 for what was loaded at start
    state::StateFile state_;
    dataplane_link::DataplaneLink& link_;
    api::ZeroBaselines baselines_;
    api::RateEstimator rates_;
    std::string last_push_error_;  // why the dataplane refused the last re-push, if it did
    Logger log_;
};

}  // namespace dplb::server
