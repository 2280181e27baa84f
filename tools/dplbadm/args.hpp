// dplbadm's command line: ipvsadm(8) syntax (plus DPVS's local-address options and dplb's
// own) turned into one control-socket request. A pure function of argv, so every accepted
// command line is unit-tested without a socket.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "tools/dplbadm/capture.hpp"

namespace dplb::dplbadm {

// How the reply is shown.
enum class Output {
    help,         // print usage(); no request
    ack,          // nothing on success (ipvsadm is silent)
    list,         // -L: ipvsadm's table
    timeouts,     // -L --timeout: "Timeout (tcp tcpfin udp): ..."
    connections,  // -L -c: ipvsadm's connection entries
    save,         // -S: rules that -R reads, from get-config
    restore,      // -R: rules from stdin, applied all or nothing (main.cpp; no single request)
    laddrs,       // --get-laddr: DPVS's table
    port_groups,  // --get-mark
    status,       // --status
    import_keepalived,  // --import-keepalived FILE: load-keepalived with the file's absolute path (main.cpp)
    health,       // --health: each real server's checkers
    daemons,      // -L --daemon: "master sync daemon (mcast=eth0, syncid=1, ...)"
    capture,      // --capture PORT: runs dpdk-dumpcap (capture.hpp); no single request
};

struct ListFormat {
    bool stats = false;            // --stats
    bool exact = false;            // --exact
    bool one_service = false;      // -L -t ...: ipvsadm then omits the version line
    bool rate = false;             // --rate
    bool thresholds = false;       // --thresholds
    bool persistent_conn = false;  // --persistent-conn
    bool sort = true;              // ipvsadm sorts unless --nosort
};

struct Invocation {
    Output output = Output::ack;
    nlohmann::json request;  // null for Output::help and Output::restore
    ListFormat list;
    nlohmann::json service;  // the service named on the command line, if any (for -L --timeout)
    bool raw_json = false;   // --json: print the reply as it came
    std::string socket;      // --socket; empty = $DPLB_CONTROL_SOCKET or the default
    std::string file;        // --import-keepalived FILE
    CaptureOptions capture;  // --capture
};

// `args` without the program name. An Error here is a usage error (exit status 2).
model::Result<Invocation> parse_args(const std::vector<std::string>& args);

std::string usage();

}  // namespace dplb::dplbadm
