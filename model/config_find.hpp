// Finding services, real servers and port groups in a configuration by their keys.
#pragma once

#include <algorithm>

#include "dplb/config.hpp"

namespace dplb::model {

template <class C>  // Config or const Config
auto find_service(C& config, const config::ServiceKey& key) -> decltype(&config.services[0]) {
    auto it = std::find_if(config.services.begin(), config.services.end(),
                           [&](const config::Service& s) { return s.key == key; });
    return it == config.services.end() ? nullptr : &*it;
}

template <class S>  // Service or const Service
auto find_real(S& service, Ip4 address, uint16_t port) -> decltype(&service.reals[0]) {
    auto it = std::find_if(service.reals.begin(), service.reals.end(),
                           [&](const config::RealServer& r) { return r.address == address && r.port == port; });
    return it == service.reals.end() ? nullptr : &*it;
}

template <class C>  // Config or const Config
auto find_port_group(C& config, uint32_t mark) -> decltype(&config.port_groups[0]) {
    auto it = std::find_if(config.port_groups.begin(), config.port_groups.end(),
                           [&](const config::PortGroup& g) { return g.mark == mark; });
    return it == config.port_groups.end() ? nullptr : &*it;
}

}  // namespace dplb::model
