#include "control/server/options.hpp"

#include <charconv>
#include <cstdlib>

#include "dplb/api.hpp"

namespace dplb::server {

using model::Error;

std::string usage() {
    return "Usage: dplb-control [options]\n"
           "Serves the dplb control socket: validates, persists and pushes the load balancer\n"
           "configuration to dplb-dataplane.\n"
           "\n"
           "  --socket PATH             control socket (default " +
           std::string(api::default_control_socket) +
           ", mode 0660)\n"
           "  --dataplane-socket PATH   dataplane socket to connect to (default " +
           std::string(api::default_dataplane_socket) +
           ")\n"
           "  --state FILE              where the accepted configuration is kept (default " +
           std::string(api::default_state_file) +
           ")\n"
           "  --max-request-bytes N     longest request line accepted (default " +
           std::to_string(api::default_max_message_bytes) +
           ")\n"
           "  --keepalived-conf FILE    run this keepalived.conf's virtual servers and their health\n"
           "                            checks (SIGHUP reloads it, applying only what changed)\n"
           "  --passive-check SECONDS   take out for SECONDS a NAT/FULLNAT real server whose new\n"
           "                            connections fail in the dataplane (default: off)\n"
           "  --metrics-listen ADDR:PORT\n"
           "                            serve Prometheus metrics on http://ADDR:PORT/metrics\n"
           "                            (default 127.0.0.1:9469; [::1]:PORT for IPv6; 'off': none)\n"
           "  --no-metrics              the same as --metrics-listen off\n"
           "  --help                    this text\n";
}

model::Result<Options> parse_options(const std::vector<std::string>& args) {
    Options o;
    o.socket = api::default_control_socket;
    o.dataplane_socket = api::default_dataplane_socket;
    o.state_file = api::default_state_file;
    o.max_request_bytes = api::default_max_message_bytes;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        std::string value;
        bool inline_value = false;
        if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        if (name == "--help" || name == "-h") {
            o.help = true;
            continue;
        }
        if (name == "--no-metrics" && !inline_value) {
            o.metrics_listen.reset();
            continue;
        }
        if (name != "--socket" && name != "--dataplane-socket" && name != "--state" && name != "--max-request-bytes" &&
            name != "--keepalived-conf" && name != "--passive-check" && name != "--metrics-listen")
            return Error{"", "unknown option '" + args[i] + "'"};
        if (!inline_value) {
            if (i + 1 >= args.size()) return Error{"", "option " + name + " needs a value"};
            value = args[++i];
        }
        if (value.empty()) return Error{"", "option " + name + " needs a non-empty value"};
        if (name == "--socket") o.socket = value;
        else if (name == "--dataplane-socket") o.dataplane_socket = value;
        else if (name == "--state") o.state_file = value;
        else if (name == "--keepalived-conf") o.keepalived_conf = value;
        else if (name == "--metrics-listen") {
            if (value == "off") {
                o.metrics_listen.reset();
                continue;
            }
            auto at = metrics::parse_listen_address(value);
            if (!at) return at.error();
            o.metrics_listen = *at;
        }
        else if (name == "--passive-check") {
            char* end = nullptr;
            double v = std::strtod(value.c_str(), &end);
            if (end != value.c_str() + value.size() || !(v > 0) || v > 86400)
                return Error{"", "--passive-check: '" + value + "' is not a number of seconds in (0, 86400]"};
            o.passive_check_seconds = v;
        }
        else {
            std::size_t n = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || end != value.data() + value.size() || n == 0)
                return Error{"", "--max-request-bytes: '" + value + "' is not a positive integer"};
            o.max_request_bytes = n;
        }
    }
    return o;
}

}  // namespace dplb::server
