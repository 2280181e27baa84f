// dplb-control: owns the configuration (control socket, validation, state file) and keeps
// dplb-dataplane running it.
#include <cstdio>
#include <string>
#include <vector>

#include "common/service_notify.hpp"
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

void log_line(std::string_view line) {
    std::fprintf(stderr, "dplb-control: %.*s\n", int(line.size()), line.data());
    std::fflush(stderr);
}

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

    state::RealFileSystem fs;
    state::Store store(opts->state_file, fs);
    auto initial = state::recover(store);
    if (!initial) {
        // Never start with (and later overwrite) less than the operator had accepted.
        log_line("refusing to start: " + initial.error().str());
        return 1;
    }
    if (!initial->warning.empty()) log_line(initial->warning);
    log_line("loaded " + std::to_string(initial->config.config().services.size()) + " services from " +
             opts->state_file + " (generation " + std::to_string(initial->generation) + ", " +
             std::to_string(initial->replayed) + " journal records)");

    // A dataplane reply may carry every service's counters: allow as much as requests.
    dataplane_link::DataplaneLink link(opts->dataplane_socket, opts->max_request_bytes, dataplane_reply_timeout);
    server::Controller controller(std::move(initial->config), initial->generation, store, link, log_line);
    health::EngineOptions engine_options;
    engine_options.make_probe = [](const keepalived::CheckerSpec& s, const health::ProbeTarget& t) {
        return health::make_probe(s, t);
    };
    engine_options.attempt_timeout = [](const keepalived::CheckerSpec& s, double delay_loop) {
        return health::attempt_timeout(s, delay_loop);
    };
    server::HealthDriver health(std::move(engine_options), opts->passive_check_seconds, log_line);
    controller.set_health(&health);
    server::EventLoop loop(controller, link, log_line,
                           server::LoopOptions{opts->socket, opts->max_request_bytes, std::chrono::milliseconds(200)},
                           &health);
    if (auto e = loop.open()) {
        log_line("cannot serve " + opts->socket + ": " + e->str());
        return 1;
    }
    if (!opts->keepalived_conf.empty()) {
        // The file owns the table: a file that is not valid is refused whole, and so is the start.
        auto reply = controller.load_keepalived(opts->keepalived_conf);
        if (!reply.value("ok", false)) {
            log_line("refusing to start: " + reply.value("error", std::string("?")));
            return 1;
        }
        for (const auto& w : reply.value("warnings", nlohmann::json::array()))
            if (w.is_string()) log_line("keepalived.conf: " + w.get<std::string>());
        log_line("loaded " + opts->keepalived_conf + " (" + std::to_string(reply.value("changes", 0)) + " changes)");
    }
    // Ready (systemd Type=notify): the control socket is bound and the state (and the
    // keepalived.conf) loaded. The dataplane need not be up: the link connects when it is.
    if (auto e = service::notify_ready("serving " + opts->socket + ", " +
                                       std::to_string(controller.config().services.size()) + " services"))
        log_line(e->str());
    loop.run();
    // run() returns once SIGTERM/SIGINT closed the sockets: what is left is the exit itself.
    if (auto e = service::notify_stopping("stopping")) log_line(e->str());
    log_line("stopped");
    return 0;
}
