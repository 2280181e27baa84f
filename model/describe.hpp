// How error messages and listings name configuration objects.
#pragma once

#include <cstdint>
#include <string>

#include "dplb/config.hpp"

namespace dplb::model {

// "tcp 10.0.0.100:80" or "fwmark 66", as error messages name a service.
std::string describe(const config::ServiceKey&);
// "192.168.100.11:80".
std::string describe(Ip4 address, uint16_t port);
// "tcp 192.168.0.200:80" or "tcp 192.168.0.200:8000-8100".
std::string describe(const config::PortMatch&);

}  // namespace dplb::model
