// The dataplane's connection table as it reports it (`connections` reply, docs/api.md), one
// entry per session or persistence template, and the codec of that reply. Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dplb/config.hpp"

namespace dplb::model {

struct Endpoint {
    Ip4 address;
    uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct ConnectionEntry {
    std::string protocol;             // "tcp", "udp"; "ip" for templates of fwmark and port-0 services
    std::string state;                // IPVS's state name: "ESTABLISHED", "SYN_RECV", "NONE" (templates), ...
    uint64_t expires_ms = 0;          // until it expires if nothing more arrives
    Endpoint client;                  // port 0 in a template
    std::optional<Endpoint> virtual_; // the VIP:port the client addressed (absent when only `fwmark` is known)
    uint32_t fwmark = 0;              // the mark of the service, for fwmark services
    std::optional<Endpoint> local;    // FULLNAT's local address and port
    Endpoint real;
    config::ForwardMethod forward = config::ForwardMethod::nat;
    bool is_template = false;         // a persistence template rather than a connection

    friend bool operator==(const ConnectionEntry&, const ConnectionEntry&) = default;
};

struct ConnectionList {
    bool truncated = false;  // the dataplane had more than the limit asked for
    std::vector<ConnectionEntry> entries;
    friend bool operator==(const ConnectionList&, const ConnectionList&) = default;
};

// "10.0.0.1:80".
std::string to_string(const Endpoint&);

}  // namespace dplb::model
