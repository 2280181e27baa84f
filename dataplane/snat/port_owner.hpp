// Which worker owns a FULLNAT local port. A reply to LIP:lport is handed to this worker,
// which is the one that allocated lport, so FULLNAT replies need no shared state.
#pragma once

#include <cstdint>

namespace dplb {

// `port` in host order.
constexpr unsigned local_port_owner(uint16_t port, unsigned nworkers) { return port % nworkers; }

}  // namespace dplb
