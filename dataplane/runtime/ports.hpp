// Bringing ports up from the configuration: probe the device (PCI address or vdev devargs),
// one RX and one TX queue per worker, RSS across workers,
// RX interrupts when the idle mode wants them and the PMD has them.
#pragma once

#include "common/result.hpp"
#include "dataplane/runtime/runtime.hpp"

namespace dplb::runtime {

// Creates the mbuf pool and starts every configured port. Call after rte_eal_init, before
// launching workers. On error nothing is left started.
model::Status start_ports(Runtime& rt);
void stop_ports(Runtime& rt);

// Link faults (docs/hardening.md): stops and starts port `index` and re-applies what
// start-up set on it (MTU, MAC, RSS redirection table; queues stay set up). Main lcore only,
// while no worker touches the port (port_link.hpp). `detail`: why it did not start, or what
// could not be re-applied to a port that did.
struct PortRestart {
    bool started = false;
    std::string detail;
};
PortRestart restart_port(Runtime& rt, size_t index);

}  // namespace dplb::runtime
