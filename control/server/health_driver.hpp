// dplb-control's side of health checking: what the checker engine (control/health) checks,
// and what its decisions become in the configuration.
//
// - The checked set is the loaded keepalived.conf's virtual servers, plus, when passive
//   checks are on, every other NAT/FULLNAT real server (no checker: only the dataplane's
//   passive observations take it out).
// - Engine effects become typed runtime changes (set-real-health, set-sorry-active) against
//   the current configuration; effects on real servers the configuration no longer has, or
//   that change nothing, are dropped. They are pushed like any change but never journaled:
//   health is found again by the checks after a restart.
// - Passive failures: the dataplane's cumulative per-real counters (`passive-failures`),
//   polled every 500 ms; an increase takes the real server out for the configured time.
//
// Threading: owned and called by dplb-control's event-loop thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/health/health_engine.hpp"
#include "control/keepalived/keepalived_config.hpp"
#include "dplb/config.hpp"
#include "model/change.hpp"

namespace dplb::server {

class HealthDriver {
public:
    HealthDriver(health::EngineOptions options, double passive_seconds, log::Logger log);

    health::HealthEngine& engine() { return *engine_; }

    // The keepalived.conf in force (empty: none loaded yet).
    const std::string& keepalived_path() const { return path_; }

    // The runtime state `target` (a reload's new table) starts with: real servers and
    // services that stay keep what they have in `current`; new real servers of a virtual
    // server with `alpha` start down (removed, or inhibited), as keepalived starts them, so
    // no connection reaches them before a check passed.
    static void seed_runtime(const config::Config& current, config::Config& target,
                             const keepalived::KeepalivedConfig& file);

    // The file's services were applied: its checkers are the checked set from now on.
    void adopt(std::string path, keepalived::KeepalivedConfig file, const config::Config& config);
    // The configuration changed by requests: passive entries follow its real servers.
    void follow(const config::Config& config);

    // The engine's effects since the last call, as changes that do change `config`.
    std::vector<model::Change> take_changes(const config::Config& config);

    bool passive() const { return passive_ > std::chrono::milliseconds::zero(); }
    // A `passive-failures` reply from the dataplane. The first one only sets the baselines;
    // a server is never taken out when it is the last one up of its service.
    void on_passive_failures(const nlohmann::json& reply, const config::Config& config);

    // The `health` request's reply.
    nlohmann::json status_reply() const;

private:
    void reconfigure(const config::Config& config);

    using RealKey = std::tuple<uint32_t, uint8_t, uint32_t, uint16_t, uint32_t, uint16_t>;  // fwmark proto vip vport rip rport
    std::unique_ptr<health::HealthEngine> engine_;
    std::chrono::milliseconds passive_{0};
    log::Logger log_;
    std::string path_;
    std::vector<keepalived::VirtualServerHealth> file_health_;
    std::map<RealKey, uint64_t> passive_seen_;  // failures counted so far per real server
    bool baseline_taken_ = false;
};

}  // namespace dplb::server
