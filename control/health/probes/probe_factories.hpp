// One constructor per checker type; make_probe (make_probe.cpp) picks by CheckerSpec::type.
// Each returns a probe that has not started yet.
#pragma once

#include <memory>

#include "control/health/probe.hpp"

namespace dplb::health::probes {

std::unique_ptr<Probe> make_tcp_probe(const ProbeTarget&);
std::unique_ptr<Probe> make_http_probe(const keepalived::CheckerSpec&, const ProbeTarget&);  // HTTP_GET, SSL_GET
std::unique_ptr<Probe> make_misc_probe(const keepalived::CheckerSpec&);
std::unique_ptr<Probe> make_udp_probe(const keepalived::CheckerSpec&, const ProbeTarget&);
std::unique_ptr<Probe> make_ping_probe(const ProbeTarget&);
std::unique_ptr<Probe> make_dns_probe(const keepalived::CheckerSpec&, const ProbeTarget&);
std::unique_ptr<Probe> make_smtp_probe(const keepalived::CheckerSpec&, const ProbeTarget&);

// The result every probe gives when it fails, and when it passes.
inline ProbeResult down(std::string reason) { return ProbeResult{false, std::move(reason), std::nullopt}; }
inline ProbeResult up() { return ProbeResult{true, "", std::nullopt}; }

}  // namespace dplb::health::probes
