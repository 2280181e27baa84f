// The servers of a service that the health checker leaves in the table, as keepalived
// leaves them in IPVS (check/ipwrapper.c): what the dataplane schedules over and what
// `dplbadm -L` lists.
//
//   - a real server `removed` is not in the set (out of IPVS);
//   - a real server `inhibited` is in it at weight 0 (inhibit_on_failure: IPVS weight 0, its
//     connections kept, no new ones);
//   - an `up` real server is in it at its dynamic weight if it has one, else its weight;
//   - while the sorry server is active (quorum lost) the set is the sorry server at weight 1
//     plus the inhibited real servers at weight 0: keepalived's perform_quorum_state removes
//     the alive real servers and clear_service_rs leaves the inhibited ones at weight 0. (An
//     alive real server with inhibit_on_failure would stay at weight 0 in IPVS; the model does
//     not know that flag of an alive server, so it is left out like the others: either way it
//     takes no new connection.)
//   - while it is not active, a sorry server with `inhibit` (sorry_server_inhibit) is in the
//     set at weight 0, as keepalived "disables" rather than removes it.
//
// The sorry server may have a real server's address and port (keepalived allows it): the set
// then holds that address and port once, as the sorry server while it is active.
//
// Order: the real servers in configuration order, then the sorry server.
//
// Threading: pure functions of plain values.
#pragma once

#include <cstdint>
#include <vector>

#include "dplb/config.hpp"

namespace dplb::model {

struct ScheduledServer {
    const config::RealServer* real = nullptr;  // the configured real server; nullptr: the sorry server
    Ip4 address;
    uint16_t port = 0;
    config::ForwardMethod forward = config::ForwardMethod::nat;
    uint32_t weight = 0;  // the weight in the table (0: no new connections)
    uint32_t upper_threshold = 0, lower_threshold = 0;

    bool is_sorry() const { return real == nullptr; }
};

// Points into `service`, which must outlive the result.
std::vector<ScheduledServer> scheduling_set(const config::Service& service);

// The sorry server as a real server of weight 1 without thresholds: how validation, the NAT
// owner rule and the dataplane treat it.
config::RealServer sorry_as_real(const config::SorryServer&);

// Calls f(const config::RealServer&) for every server of the configuration that may hold
// connections: the real servers whatever their health, then the sorry server (sorry_as_real)
// whether active or not, even when it has a real server's address and port. The NAT owner
// rule covers each one (a server named twice counts twice); the dataplane gives each address
// and port one stable id.
template <class F>
void for_each_configured_server(const config::Service& service, F&& f) {
    for (const auto& r : service.reals) f(r);
    if (service.sorry_server) f(sorry_as_real(*service.sorry_server));
}

}  // namespace dplb::model
