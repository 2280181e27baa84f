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

void service_fields(std::vector<log::Field>& out, const config::ServiceKey& key) {
    if (key.is_fwmark()) {
        out.emplace_back("fwmark", key.fwmark);
    } else {
        out.emplace_back("vip", key.address.str());
        out.emplace_back("port", key.port);
    }
    out.emplace_back("proto", config::to_string(key.protocol));
}

void real_fields(std::vector<log::Field>& out, const config::ServiceKey& key, Ip4 address, uint16_t port) {
    service_fields(out, key);
    out.emplace_back("real", address.str());
    out.emplace_back("real_port", port);
}

}  // namespace dplb::health
