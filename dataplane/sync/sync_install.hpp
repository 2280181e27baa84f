// What the backup's receiver hands a worker to install (receiver -> worker SPSC ring), and
// what came of it.
//
// The receiver resolves the record against its snapshot (resolve_image) and sends ids, not
// pointers: the worker may hold another snapshot by the time it installs, and looks the
// service up again by its stable id.
//
// Threading: a plain value copied through SpscRing.
#pragma once

#include <cstdint>

#include "dataplane/sync/session_sync.hpp"

namespace dplb {

struct SyncInstall {
    SessionImage image;
    uint32_t service_id = 0;
    uint32_t real_id = 0;
};

// How long a synced session outlives the timeout its record carried on the backup: the
// master re-sends a living session only when the deadline it last filed comes due (plus the
// wheel's slot, the sender's 100 ms batching and the network), so without a margin the
// backup's copy could expire just before its refresh arrives.
inline constexpr Tick sync_expiry_grace_ms = 3000;

enum class InstallOutcome : uint8_t {
    installed,          // a new session or template
    updated,            // an existing one: state, activity and deadline
    replaced,           // the tuple belonged to another connection (server, local port): ended, then installed
    no_service,         // the service id is gone from the worker's snapshot
    no_local_address,   // FULLNAT: the service has no local address with the record's address
    port_unavailable,   // FULLNAT: that local port is in use here, or not this worker's
    conflict,           // a key is already another session's
    table_full,
};

}  // namespace dplb
