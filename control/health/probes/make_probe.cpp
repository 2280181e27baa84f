// make_probe and attempt_timeout (probe.hpp): the dispatch on the checker type and the
// deadline the engine gives each attempt.
#include <algorithm>

#include "control/health/probe.hpp"
#include "control/health/probes/probe_factories.hpp"

namespace dplb::health {

using keepalived::CheckerType;

double attempt_timeout(const keepalived::CheckerSpec& spec, double delay_loop) {
    switch (spec.type) {
        case CheckerType::misc:
            // keepalived: misc_timeout when set and not 0, else the virtual server's
            // delay_loop (vs->delay_loop, not the checker's own): a script may run a period.
            if (spec.misc_timeout && *spec.misc_timeout > 0) return *spec.misc_timeout;
            return delay_loop;
        case CheckerType::http:
        case CheckerType::ssl:
            // keepalived restarts connect_timeout at every step of every url; one attempt
            // here walks all the urls, so each url gets one connect_timeout of the budget.
            return spec.connect_timeout * double(std::max<std::size_t>(1, spec.urls.size()));
        case CheckerType::tcp:
        case CheckerType::udp:
        case CheckerType::ping:
        case CheckerType::dns:
        case CheckerType::smtp: break;
    }
    return spec.connect_timeout;
}

std::unique_ptr<Probe> make_probe(const keepalived::CheckerSpec& spec, const ProbeTarget& target) {
    switch (spec.type) {
        case CheckerType::tcp: return probes::make_tcp_probe(target);
        case CheckerType::http:
        case CheckerType::ssl: return probes::make_http_probe(spec, target);
        case CheckerType::misc: return probes::make_misc_probe(spec);
        case CheckerType::udp: return probes::make_udp_probe(spec, target);
        case CheckerType::ping: return probes::make_ping_probe(target);
        case CheckerType::dns: return probes::make_dns_probe(spec, target);
        case CheckerType::smtp: return probes::make_smtp_probe(spec, target);
    }
    return probes::make_tcp_probe(target);  // unreachable: every type is handled above
}

}  // namespace dplb::health
