#include "control/health/names.hpp"

namespace dplb::health {

namespace {

// inet_sockaddrtotrio: "[address]:protocol:port".
std::string trio(Ip4 address, config::Protocol protocol, uint16_t port) {
    return "[" + address.str() + "]:" + (protocol == config::Protocol::udp ? "udp" : "tcp") + ":" +
           std::to_string(port);
}

}  // namespace

std::string vs_name(const config::ServiceKey& key) {
    if (key.is_fwmark()) return "FWM " + std::to_string(key.fwmark);
    return trio(key.address, key.protocol, key.port);
}

std::string rs_name(const config::ServiceKey& key, Ip4 address, uint16_t port) {
    return trio(address, key.protocol, port);
}

}  // namespace dplb::health
