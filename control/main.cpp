// dplb-control: owns the configuration (control socket, validation, state file) and keeps
// dplb-dataplane running it.
#include <cstdio>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "control/dataplane_link/dataplane_link.hpp"
#include "control/server/controller.hpp"
#include "control/server/event_loop.hpp"
#include "control/server/health_driver.hpp"
#include "control/server/options.hpp"
#include "control/state/file_system.hpp"
#include "control/state/recover.hpp"
#include "control/state/store.hpp"

using namespace dplb;

namespace {

// A plain message line (`level=info msg="..."`) for code that has no event name yet; events
// go through log::Logger (common/log.hpp, docs/operations.md "Logs").
[[maybe_unused]] void log_line(std::string_view line) { log::Logger{}(line); }

constexpr std::chrono::seconds dataplane_reply_timeout{10};

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
    if (auto e = loop.open()) {
        logger.error("start_refused", {{"socket", opts->socket}, {"error", e->str()}});
        return 1;
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
    loop.run();
    log::process().flush(true);  // what the rate limiter still holds back
    logger.info("stopped");
    return 0;
}
