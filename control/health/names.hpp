// keepalived's names for servers (check_data.c format_vs/format_rs), used in its logs and
// in every lvs_notify_fifo line: a virtual server is "[192.168.201.15]:tcp:80" or
// "FWM 5", a real server "[1.2.3.4]:tcp:80" (with its virtual server's protocol).
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "dplb/config.hpp"
#include "dplb/ip4.hpp"

namespace dplb::health {

std::string vs_name(const config::ServiceKey&);
std::string rs_name(const config::ServiceKey&, Ip4 address, uint16_t port);

// The same servers as log fields, with the metrics' label names: vip, port, proto (or
// fwmark, proto) for the service; real, real_port for a real server.
void service_fields(std::vector<log::Field>& out, const config::ServiceKey&);
void real_fields(std::vector<log::Field>& out, const config::ServiceKey&, Ip4 address, uint16_t port);

}  // namespace dplb::health
