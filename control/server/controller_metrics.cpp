// The /metrics page, gathered on the event-loop thread (control/metrics/scrape_exchange.hpp):
// two dataplane requests (`counters`, `status`), the checkers' state and the configuration.
// Reading them never blocks a worker: the dataplane's control thread sums the per-worker
// counters, which the workers write without locks (dataplane/stats/counter.hpp).
#include "codec/counters_text.hpp"
#include "control/metrics/render.hpp"
#include "control/server/controller.hpp"
#include "control/server/health_driver.hpp"

namespace dplb::server {

using nlohmann::json;

// A scrape whose dataplane part failed: the page goes out without the dataplane's families
// (dplb_dataplane_up 0 when the link dropped); limited, since Prometheus asks every few seconds.
void Controller::scrape_failed(const char* cmd, const std::string& error) {
    log_.limited(log::Level::warning, "metrics_dataplane_request_failed", {{"cmd", cmd}, {"error", error}});
}

std::string Controller::render_metrics(const metrics::Histogram& change_duration, std::string buffer) {
    std::optional<model::StatsSnapshot> stats;
    std::optional<json> status;
    if (link_.connected()) {
        // `counters`: the stats without rates, as text read without a JSON tree (~10x cheaper
        // than `stats` at 10,000 services); a dataplane that does not know it gets `stats`.
        auto text = link_.call_text(R"({"cmd":"counters"})");
        if (!text) scrape_failed("counters", text.error().message);
        else if (auto snap = model::counters_reply_from_text(*text)) stats = std::move(*snap);
        else if (snap.error().message.find("unknown request") != std::string::npos) stats = fetch_stats();
        else scrape_failed("counters", snap.error().message);
    }
    if (stats && link_.connected()) {
        auto reply = link_.call(json{{"cmd", "status"}});
        if (!reply) scrape_failed("status", reply.error().message);
        else if ((*reply)["ok"].get<bool>()) status = std::move(*reply);  // (the link checked "ok" is a bool)
        else scrape_failed("status", reason(*reply));
    }
    std::vector<health::ServiceStatus> checks;
    if (health_) checks = health_->engine().status();
    metrics::MetricsInput in;
    in.config = &editor_.config();
    in.stats = stats && status ? &*stats : nullptr;
    in.status = stats && status ? &*status : nullptr;
    in.health = &checks;
    in.change_duration = &change_duration;
    return metrics::render(in, std::move(buffer));
}

}  // namespace dplb::server
