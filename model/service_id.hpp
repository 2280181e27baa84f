// One identity and order of services for every map the control code keys by service:
// (fwmark, protocol, address, port). It is also ipvsadm's listing order (ipvs_cmp_services):
// address services first (their fwmark is 0) by protocol, address and port, then fwmark
// services by mark.
#pragma once

#include <cstdint>
#include <tuple>

#include "dplb/config.hpp"

namespace dplb::model {

using ServiceId = std::tuple<uint32_t, uint8_t, uint32_t, uint16_t>;

inline ServiceId service_id(const config::ServiceKey& k) {
    return {k.fwmark, uint8_t(k.protocol), k.address.host(), k.port};
}

}  // namespace dplb::model
