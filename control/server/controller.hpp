// What dplb-control does with one request: the configuration it owns, the path of a change
// (decode into typed changes -> apply in place, checked -> push the batch to the dataplane ->
// append to the journal -> one fsync shared by the turn's changes -> reply), the whole
// configuration pushed on every dataplane (re)connection or when it asks for a resync,
// counters with zero baselines (the dataplane estimates the rates), the connection table,
// and status.
// Sockets other than the dataplane link are the event loop's business (event_loop.hpp).
//
// Threading: owned and called by the control process's single event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api/zero_baselines.hpp"
#include "control/dataplane_link/dataplane_link.hpp"
#include "model/stats.hpp"
#include "control/state/store.hpp"
#include "dplb/config.hpp"
#include "model/change.hpp"
#include "model/config_editor.hpp"
#include "control/keepalived/keepalived_config.hpp"
#include "codec/stats_json.hpp"
#include "common/log.hpp"
#include "control/metrics/histogram.hpp"

namespace dplb::server {
class HealthDriver;
}

namespace dplb::server {

// Structured events (common/log.hpp); a plain line function converts to it.
using Logger = log::Logger;

class Controller {
public:
    // `initial` is what the state file and journal held at start, at `generation`.
    Controller(model::ConfigEditor initial, uint64_t generation, state::Store& store,
               dataplane_link::DataplaneLink& link, Logger log);

    // One request line in, one reply object out (never throws, always has "ok"). A change is
    // durable (journal fsynced) when its reply is returned.
    nlohmann::json handle_line(std::string_view line);
    nlohmann::json handle(const nlohmann::json& request);

    // The same, for the event loop's group commit: a change is applied, pushed and written
    // to the journal, and its reply (nullopt here) waits for complete_staged(), which makes
    // every staged change durable with one fsync and returns their replies in staging
    // order. Other requests are answered at once.
    std::optional<nlohmann::json> stage_line(std::string_view line);
    std::optional<nlohmann::json> stage(const nlohmann::json& request);
    std::vector<nlohmann::json> complete_staged();
    // Frees what the completed changes no longer need (their requests, a 90,000-rule -R's
    // objects among them): called once their replies are sent, so no reply waits for it.
    void release_retired() { retired_.clear(); }
    std::size_t staged() const { return staged_.size(); }

    // The journal's background compaction: started after changes, reaped here.
    void poll_store();
    bool compacting() const { return store_.compacting(); }

    // The link has just connected: push the whole configuration before anything else.
    void on_dataplane_connected();


    // Health checking (controller_health.cpp). Without a driver, health requests are refused.
    void set_health(HealthDriver* driver) { health_ = driver; }
    // Loads a keepalived.conf: its virtual servers replace the services (only the differences
    // are applied, as one durable change; real servers that stay keep their health) and its
    // checkers become the checked set. Nothing changes when the file is not valid. Made
    // durable before returning (not staged): for start-up and SIGHUP, between turns.
    nlohmann::json load_keepalived(const std::string& path);
    // The engine's decisions since the last call, applied and pushed (never journaled).
    // Call between turns, when nothing is staged.
    void apply_health();
    // Asks the dataplane for its passive-check counters (when passive checks are on).
    void poll_passive();

    // The /metrics page (controller_metrics.cpp): asks the dataplane for `stats` and
    // `status`, reads the checkers' state and renders them with `change_duration`.
    std::string render_metrics(const metrics::Histogram& change_duration, std::string buffer = {});
    // Whether the last request given to stage()/stage_line() was a configuration change
    // (mutations, batch, load-keepalived), answered or staged: the event loop times those.
    bool last_request_was_change() const { return last_was_change_; }

    const config::Config& config() const { return editor_.config(); }
    uint64_t generation() const { return generation_; }

private:
    void scrape_failed(const char* cmd, const std::string& error);  // render_metrics(): logged, limited
    // A reply, or nullopt when a change was staged.
    std::optional<nlohmann::json> dispatch(const std::string& cmd, const nlohmann::json& request);
    // Decodes and applies the request's changes (one, or a `batch`'s) into `batch`.
    model::Status apply_request(const std::string& cmd, const nlohmann::json& request, model::Batch& batch);
    std::optional<nlohmann::json> stage_change(const std::string& cmd, const nlohmann::json& request);
    // The rest of a change's path once `batch` is applied to editor_ (after `mark`): push,
    // journal, stage. A reply on failure (everything taken back), nullopt when staged.
    std::optional<nlohmann::json> stage_applied(model::Batch batch, std::size_t mark);
    // load-keepalived's change, staged like any request's.
    std::optional<nlohmann::json> stage_keepalived(const std::string& path);
    nlohmann::json health_reply(const nlohmann::json& request);
    // Brings the dataplane to the current configuration at generation_ after a change it
    // ran was taken back.
    void resync_dataplane(const char* why);
    // Writes the configuration (without staged changes) as the state file at generation_,
    // which re-opens a journal the store refused after a failed fsync.
    void rewrite_store();
    // The dataplane's counters (cumulative), or nullopt when it is not reachable.
    std::optional<model::StatsSnapshot> fetch_stats();
    // A `stats` reply decoded, or nullopt (logged) when there is none or it is unusable.
    std::optional<model::StatsSnapshot> decode_stats(const model::Result<nlohmann::json>& reply);
    nlohmann::json status_reply();
    nlohmann::json connections_reply(const nlohmann::json& request);
    nlohmann::json query(const std::string& cmd, const nlohmann::json& request);
    const char* dataplane_state() const;
    // The "error" of a dataplane reply, or "no reason given".
    static std::string reason(const nlohmann::json& reply);

    struct Staged {
        nlohmann::json reply;                   // the success reply (with the request's id)
        std::vector<config::ServiceKey> removed;  // services it deleted: baselines and rates forget them
        bool removes_any = false;                 // clear / replace: compare with the whole configuration
        std::vector<std::shared_ptr<void>> keep;  // its request, changes and encoding: freed after the reply
        std::vector<log::Event> events;           // what it changed, logged once durable
    };

    model::ConfigEditor editor_;  // applied changes; those not yet durable are its pending ones
    uint64_t generation_;         // of editor_.config(), staged changes included
    // The generation of the table as requests and files made it (get-config, if_generation):
    // it does not move when a health check flips a server, so a read-modify-write of the
    // table is not refused because a checker flipped meanwhile. Staged changes included;
    // config_generation_durable_ is its value without them (for a rollback).
    uint64_t config_generation_;
    uint64_t config_generation_durable_;
    // The highest generation number handed out in this run (>= generation_): every push and
    // journal record gets a fresh one, so no number ever names two configurations.
    uint64_t last_number_;
    bool dataplane_in_doubt_ = false;  // it refused a whole push: send whole, not a delta
    state::Store& store_;
    std::vector<Staged> staged_;
    std::vector<std::shared_ptr<void>> retired_;  // see release_retired()
    std::chrono::steady_clock::time_point compact_not_before_{};  // after a failed compaction
    dataplane_link::DataplaneLink& link_;
    api::ZeroBaselines baselines_;
    std::string last_push_error_;  // why the dataplane refused the last re-push, if it did
    Logger log_;
    HealthDriver* health_ = nullptr;
    bool passive_refusal_logged_ = false;  // logged once per dataplane connection
    // Requests changed the table (or it was just loaded): the checked set follows it and the
    // engine's verdicts are applied again to servers the requests brought back.
    bool requests_changed_config_ = true;
    std::string loaded_keepalived_;  // set by stage_keepalived: adopted when durable
    std::optional<keepalived::KeepalivedConfig> loading_;
    bool last_was_change_ = false;
};

}  // namespace dplb::server
