// The snapshot's side of a synced session: on the master, what a session's ids stand for
// (its service key and real server, session_sync.hpp's SessionContext); on the backup, which
// of its own services and real servers a received SessionImage belongs to. Ids are never
// sent: each node resolves them in its own snapshot.
//
// Threading: pure functions of the snapshot (any thread that holds it under QSBR).
#pragma once

#include "dataplane/config/snapshot.hpp"
#include "dataplane/sync/session_sync.hpp"

namespace dplb {

// Master: false if the session's service or real server is no longer in `snap` (removed
// from the configuration while the session drains); such sessions are not synced.
bool session_context(const Session& s, const Snapshot& snap, SessionContext* out);

enum class ResolveError : uint8_t {
    none,
    no_service,        // no service of the backup matches the record
    service_mismatch,  // opt_dplb_ports names another service port than the one found
    no_real_server,    // the service has no such real server (among `reals` and `standby`)
    count_
};
const char* to_string(ResolveError);

struct ResolvedImage {
    const ServiceSnap* service = nullptr;
    const RealSnap* real = nullptr;
};

// Backup: the service as a packet of the session would find it (find_service on
// protocol, VIP and the client's destination port; a mark template by its mark), and the
// real server by address and port (the configured port from opt_dplb_ports when present,
// else the port used or a port-0 server).
ResolveError resolve_image(const SessionImage& im, const Snapshot& snap, ResolvedImage* out);

}  // namespace dplb
