// dplb-control's /metrics page (docs/operations.md, "Monitoring with Prometheus") rendered
// from what the event loop gathered: the configuration (weights, health as applied, VIPs),
// the dataplane's `stats` and `status` replies, the health checkers' state and the
// change-duration histogram. No I/O, no EAL: tests feed it canned replies. (dplb-control
// asks the dataplane for `counters`, the `stats` counters without rates: codec/counters_text.hpp.)
//
// Counters are the dataplane's own, cumulative since it started: `dplbadm --zero`'s baselines
// (kept by dplb-control) are not applied, so every counter only grows while the dataplane runs.
//
// Threading: a function of its inputs; called on dplb-control's event-loop thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/health/health_engine.hpp"
#include "control/metrics/histogram.hpp"
#include "dplb/config.hpp"
#include "model/stats.hpp"

namespace dplb::metrics {

struct MetricsInput {
    const config::Config* config = nullptr;  // required
    // The dataplane's replies; either null (not connected, or a reply unusable): the
    // dataplane's families are left out and dplb_dataplane_up is 0.
    const model::StatsSnapshot* stats = nullptr;
    const nlohmann::json* status = nullptr;
    // The checkers' state (HealthEngine::status()); null or empty: nothing is checked.
    const std::vector<health::ServiceStatus>* health = nullptr;
    const Histogram* change_duration = nullptr;  // required
};

// `buffer`: memory to render into (its text is discarded), e.g. the last page's, handed back
// by ScrapeExchange::take_buffer(): a fresh 90 MB page pays a page fault per 4 kB first touched.
std::string render(const MetricsInput& in, std::string buffer = {});

}  // namespace dplb::metrics
