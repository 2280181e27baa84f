#include "model/describe.hpp"

namespace dplb::model {

namespace cfg = dplb::config;

std::string describe(const cfg::ServiceKey& k) {
    if (k.is_fwmark()) return "fwmark " + std::to_string(k.fwmark);
    return std::string(cfg::to_string(k.protocol)) + " " + describe(k.address, k.port);
}

std::string describe(Ip4 address, uint16_t port) { return address.str() + ":" + std::to_string(port); }

std::string describe(const cfg::PortMatch& m) {
    std::string out = std::string(cfg::to_string(m.protocol)) + " " + m.address.str() + ":" +
                      std::to_string(m.first_port);
    if (m.last_port != m.first_port) out += "-" + std::to_string(m.last_port);
    return out;
}

}  // namespace dplb::model
