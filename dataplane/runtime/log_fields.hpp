// Text for the dataplane's log fields (common/log.hpp): values the fast path keeps as bytes.
// Threading: pure functions; called from the main lcore, the control thread and start-up,
// never by a worker.
#pragma once

#include <cstdio>
#include <string>

#include "dataplane/packet/headers.hpp"

namespace dplb::runtime {

// "02:00:00:00:00:01".
inline std::string mac_text(const pkt::Mac& m) {
    char b[18];
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m.bytes[0], m.bytes[1], m.bytes[2], m.bytes[3],
                  m.bytes[4], m.bytes[5]);
    return b;
}

}  // namespace dplb::runtime
