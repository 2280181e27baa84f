// dplb-control: owns the configuration (control socket, validation, state file) and keeps
// dplb-dataplane running it.
#include <cstdio>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/service_notify.hpp"
#include "control/dataplane_link/dataplane_link.hpp"
#include "control/metrics/http_server.hpp"
#include "control/metrics/scrape_exchange.hpp"
#include "control/server/controller.hpp"
#include "control/server/event_loop.hpp"
#include "control/server/health_driver.hpp"
#include "control/server/options.hpp"
#include "control/state/file_system.hpp"
#include "control/state/recover.hpp"
#include "control/state/store.hpp"

using namespace dplb;

namespace {

constexpr std::chrono::seconds dataplane_reply_timeout{10};
// How long a scrape waits for the event loop (busy with a long request) before a 503.
constexpr std::chrono::seconds metrics_wait{5};

}  // namespace

int main(int argc, char** argv) {
    auto opts = server::parse_options(std::vector<std::string>(argv + 1, argv + argc));
    if (!opts) {
        std::fprintf(stderr, "dplb-control: %s\n%s", opts.error().str().c_str(), server::usage().c_str());
        return 2;
    }
    if (opts->help) {
        std::fputs(server::usage().c_str(), stdout);
        return 0;
    }
    log::OutputOptions log_options;
    log_options.proc = "dplb-control";
    log_options.min_level = opts->log_level;
    log::configure(std::move(log_options));
    log::Logger logger;

    state::RealFileSystem fs;
    state::Store store(opts->state_file, fs);
    auto initial = state::recover(store);
    if (!initial) {
        // Never start with (and later overwrite) less than the operator had accepted.
        logger.error("start_refused", {{"path", opts->state_file}, {"error", initial.error().str()}});
        return 1;
    }
    if (!initial->warning.empty())
        logger.warning("state_recovery_warning", {{"path", opts->state_file}, {"warning", initial->warning}});
    logger.info("state_loaded", {{"path", opts->state_file},
                                 {"services", initial->config.config().services.size()},
                                 {"generation", initial->generation},
                                 {"journal_records", initial->replayed}});

    // A dataplane reply may carry every service's counters: allow as much as requests.
    dataplane_link::DataplaneLink link(opts->dataplane_socket, opts->max_request_bytes, dataplane_reply_timeout);
    server::Controller controller(std::move(initial->config), initial->generation, store, link, logger);
    health::EngineOptions engine_options;
    engine_options.make_probe = [](const keepalived::CheckerSpec& s, const health::ProbeTarget& t) {
        return health::make_probe(s, t);
    };
    engine_options.attempt_timeout = [](const keepalived::CheckerSpec& s, double delay_loop) {
        return health::attempt_timeout(s, delay_loop);
    };
    server::HealthDriver health(std::move(engine_options), opts->passive_check_seconds, logger);
    controller.set_health(&health);
    server::EventLoop loop(controller, link, logger,
                           server::LoopOptions{opts->socket, opts->max_request_bytes, std::chrono::milliseconds(200)},
                           &health);
    metrics::ScrapeExchange scrape;
    metrics::HttpServer http(scrape, metrics_wait);
    if (opts->metrics_listen) loop.serve_metrics(scrape);
    if (auto e = loop.open()) {
        logger.error("start_refused", {{"socket", opts->socket}, {"error", e->str()}});
        return 1;
    }
    if (opts->metrics_listen) {
        if (auto e = http.start(*opts->metrics_listen)) {
            logger.error("start_refused", {{"metrics_listen", opts->metrics_listen->str()}, {"error", e->str()}});
            return 1;
        }
        logger.info("metrics_serving", {{"url", "http://" + opts->metrics_listen->str() + "/metrics"}});
    }
    if (!opts->keepalived_conf.empty()) {
        // The file owns the table: a file that is not valid is refused whole, and so is the start.
        auto reply = controller.load_keepalived(opts->keepalived_conf);
        if (!reply.value("ok", false)) {
            logger.error("start_refused",
                         {{"path", opts->keepalived_conf}, {"error", reply.value("error", std::string("?"))}});
            return 1;
        }
        for (const auto& w : reply.value("warnings", nlohmann::json::array()))
            if (w.is_string())
                logger.warning("keepalived_warning", {{"path", opts->keepalived_conf}, {"warning", w.get<std::string>()}});
        logger.info("keepalived_loaded", {{"path", opts->keepalived_conf}, {"changes", reply.value("changes", 0)}});
    }
    // Ready (systemd Type=notify): the control socket is bound and the state (and the
    // keepalived.conf) loaded. The dataplane need not be up: the link connects when it is.
    if (auto e = service::notify_ready("serving " + opts->socket + ", " +
                                       std::to_string(controller.config().services.size()) + " services"))
        logger.warning("service_notify_failed", {{"state", "READY"}, {"error", e->str()}});
    loop.run();
    http.stop();
    // run() returns once SIGTERM/SIGINT closed the sockets: what is left is the exit itself.
    if (auto e = service::notify_stopping("stopping"))
        logger.warning("service_notify_failed", {{"state", "STOPPING"}, {"error", e->str()}});
    log::process().flush(true);  // what the rate limiter still holds back
    logger.info("stopped");
    return 0;
}
