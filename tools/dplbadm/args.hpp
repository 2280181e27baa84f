// dplbadm's command line: ipvsadm(8) syntax (plus DPVS's local-address options and dplb's
// own) turned into one control-socket request. A pure function of argv, so every accepted
// command line is unit-tested without a socket.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/model/result.hpp"

namespace dplb::dplbadm {

// How the reply is shown.
enum class Output {
    help,      // print usage(); no request
    ack,       // nothing on success (ipvsadm is silent)
    list,      // -L: ipvsadm's table
    timeouts,  // -L --timeout: "Timeout (tcp tcpfin udp): ..."
    laddrs,    // --get-laddr: DPVS's table
    status,    // --status
};

struct ListFormat {
    bool stats = false;         // --stats
    bool exact = false;         // --exact
    bool one_service = false;   // -L -t ...: ipvsadm then omits the version line
};

struct Invocation {
    Output output = Output::ack;
    nlohmann::json request;  // null for Output::help
    ListFormat list;
    bool raw_json = false;   // --json: print the reply as it came
    std::string socket;      // --socket; empty = $DPLB_CONTROL_SOCKET or the default
};

// `args` without the program name. An Error here is a usage error (exit status 2).
model::Result<Invocation> parse_args(const std::vector<std::string>& args);

std::string usage();

}  // namespace dplb::dplbadm
