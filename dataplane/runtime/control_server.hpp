// The dataplane side of the dataplane socket (docs/api.md, "Dataplane socket requests"),
// served by the control thread.
//
// `apply` decodes and validates the whole configuration; `apply-batch` applies typed changes
// (model/change.hpp) to the configuration the dataplane holds (a ConfigEditor) when their
// base is its generation, else answers "resync". Either builds the snapshot (apply-batch
// rebuilds only the services the batch touched), publishes it with one pointer store, waits
// for a QSBR grace period and frees the previous one, then recycles ids and local addresses
// nothing uses any more. Traffic never pauses: workers switch to the new snapshot at their
// next loop iteration. `stats` and `status` sum the per-worker counters.
//
// One file per request kind: control_socket.cpp (the loop), control_apply.cpp (apply,
// apply-batch, publish), control_stats.cpp, control_status.cpp, control_connections.cpp,
// control_passive.cpp (passive-failures).
//
// Threading: one control thread; it is the only writer of rt.snapshot and of the
// LocalAddressRegistry, and never a QSBR reader (so it may block in synchronize()).
// handle_shared() lets one other thread (DPDK's telemetry thread, telemetry.hpp) ask too:
// run() handles each request and each rate estimation under serving_, so a snapshot is
// published or freed only while that thread is kept out.
#pragma once

#include <nlohmann/json.hpp>

#include <mutex>
#include <chrono>
#include <vector>

#include "common/log.hpp"
#include "dataplane/config/snapshot_builder.hpp"
#include "dataplane/runtime/flow_rules.hpp"
#include "dataplane/runtime/runtime.hpp"
#include "dataplane/runtime/config_applier.hpp"
#include "dataplane/runtime/passive_failures.hpp"
#include "dataplane/stats/rate_tracker.hpp"
#include "model/stats.hpp"

namespace dplb::runtime {

class ControlServer {
public:
    explicit ControlServer(Runtime& rt);
    ~ControlServer();

    // Serves `listen_fd` until rt.stop is set. Call from the control thread.
    void run(int listen_fd);

    // Request handlers (also used directly by tests and benchmarks).
    nlohmann::json handle(const nlohmann::json& request);
    // handle() under serving_: what run() calls, and what another thread may call (with
    // read-only requests only: stats, status).
    nlohmann::json handle_shared(const nlohmann::json& request);
    // The reply line (without newline) to `request`: handle()'s, dumped, or for `counters`
    // written directly as text (codec/counters_text.hpp). Under serving_, as handle_shared().
    std::string handle_text(const nlohmann::json& request);
    // stats_snapshot() under serving_, for the telemetry thread: the caller converts what it
    // needs after the lock is released, so the control thread is not stalled meanwhile.
    model::StatsSnapshot stats_snapshot_shared();

private:
    nlohmann::json apply(const nlohmann::json& request);
    nlohmann::json apply_batch(const nlohmann::json& request);
    // Publishes `next`, waits for the grace period, frees the previous snapshot, collects.
    void publish(std::unique_ptr<Snapshot> next);
    nlohmann::json stats() const;
    std::string counters_text() const;
    model::StatsSnapshot stats_snapshot() const;  // summed over workers, minus recycled ids' baselines
    // ipvsadm --rate: one estimation round every 2 s (IPVS's interval), from run()'s loop.
    void estimate_rates_if_due();
    nlohmann::json zero_rates(const nlohmann::json& request);
    nlohmann::json status() const;
    nlohmann::json sync_status() const;
    nlohmann::json local_address_status() const;
    nlohmann::json connections(const nlohmann::json& request);
    nlohmann::json passive_failures() const;
    model::Counters real_totals(uint32_t id) const;
    model::Counters service_totals(uint32_t id) const;
    // Passive-check counts of a real server id, summed over workers, minus its baseline.
    PassiveCounts passive_totals(uint32_t id) const;
    PassiveCounts passive_sum(uint32_t id) const;  // without the baseline

    Runtime& rt_;
    SnapshotBuilder builder_;
    std::vector<model::Counters> real_baseline_;     // by real id: counts left by a previous owner
    std::vector<model::Counters> service_baseline_;  // by service id
    std::vector<PassiveCounts> passive_baseline_;    // by real id
    DepartedReals departed_;                         // real servers no snapshot names any more
    FlowRules flow_rules_{rt_};                      // rte_flow steering of FULLNAT replies
    ConfigApplier applier_{builder_};  // the configuration the snapshot was built from
    RateTracker rates_{rt_.config.max_services, rt_.config.max_real_servers};
    double next_estimate_ = 0;  // monotonic seconds
    std::mutex serving_;        // held by run() while it handles a request; see handle_shared()
    log::Logger log_;           // the process output (the control thread's lines)
    // When the live snapshot was published (`status`: snapshot_age_seconds).
    std::chrono::steady_clock::time_point published_at_{};
};

}  // namespace dplb::runtime
