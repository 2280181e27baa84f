// dplb-control's command line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "control/metrics/http_server.hpp"

namespace dplb::server {

struct Options {
    std::string socket;
    std::string dataplane_socket;
    std::string state_file;
    std::size_t max_request_bytes = 0;
    // keepalived.conf whose virtual_server blocks own the table and whose checkers run here;
    // reloaded on SIGHUP. Empty: none (services come from the state file and requests).
    std::string keepalived_conf;
    // Passive checks: seconds a real server whose new connections fail is taken out; 0 = off.
    double passive_check_seconds = 0;
    // Where /metrics is served (docs/operations.md, "Monitoring with Prometheus"); nullopt:
    // not at all (--metrics-listen off, --no-metrics).
    std::optional<metrics::ListenAddress> metrics_listen = metrics::ListenAddress{"127.0.0.1", 9469};
    bool help = false;
};

// `args` without the program name. Defaults come from dplb/api.hpp.
model::Result<Options> parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace dplb::server
