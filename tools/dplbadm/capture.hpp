// dplbadm --capture PORT [-f FILTER] [-c N] [--duration S] [-w FILE]: packet capture on a
// dataplane port by Debian's dpdk-dumpcap, a DPDK secondary process that attaches to the
// dataplane (docs/operations.md, "Capturing packets"). dplbadm asks dplb-control's `status`
// for the dataplane's EAL file prefix, whether capture is available, and the port's DPDK
// index, checks the filter with libpcap, and executes dpdk-dumpcap with the command line
// an operator would type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dplb::dplbadm {

struct CaptureOptions {
    std::string port;       // a dataplane port's name, or a kernel twin's
    std::string filter;     // libpcap filter syntax; empty = every packet
    uint64_t count = 1000;  // stop after this many packets; 0 = no count bound
    uint64_t duration = 60; // stop after this many seconds; 0 = no time bound (never both 0)
    std::string file;       // pcapng output; empty = dpdk-dumpcap picks a file and prints its name
};

// The options of `--capture` (everything of argv but --socket/--json, which parse_args reads).
model::Result<CaptureOptions> parse_capture_options(const std::vector<std::string>& args);

// Whether libpcap compiles `filter` for Ethernet frames: "capture filter 'x': syntax error".
model::Status check_capture_filter(const std::string& filter);

// dpdk-dumpcap's argv for `options`, from dplb-control's `status` reply.
model::Result<std::vector<std::string>> dumpcap_command(const CaptureOptions& options, const nlohmann::json& status_reply,
                                                        const std::string& program = "dpdk-dumpcap");

// Asks for the status, checks, and executes dpdk-dumpcap (returns only on failure: the exit status).
int run_capture(const std::string& socket, const CaptureOptions& options);

}  // namespace dplb::dplbadm
