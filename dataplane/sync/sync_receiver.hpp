// Backup side: a received datagram to install requests in the owning workers' rings.
//
// For each message: decode (a malformed one is refused whole, by reason), the syncid filter
// (a receiver with syncid 0 takes every message, as the kernel's backup), then for each
// record: sync_to_image (what dplb cannot forward, by ImageError), resolve_image against the
// current snapshot (by ResolveError), the owner worker by sync_owner with this node's worker
// count (FULLNAT whose local port names another worker: fullnat_owner_mismatch), the install
// rate limit (token bucket, sync_install_pps; 0 = none), and a push into the owner's ring
// (full: install_ring_full). The workers install from their rings in their own loops.
// A control message (full_table_request / full_table_end) is returned to the caller.
//
// Threading: one thread (the sync engine's), holding `snap` under QSBR.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/flow/owner.hpp"
#include "dataplane/forward/exception.hpp"
#include "dataplane/sync/spsc_ring.hpp"
#include "dataplane/sync/sync_counters.hpp"
#include "dataplane/sync/sync_install.hpp"
#include "sync/message_decoder.hpp"

namespace dplb {

class SyncReceiver {
public:
    SyncReceiver(uint8_t syncid, unsigned nworkers, uint32_t install_pps, Tick now, SyncCounters& counters);

    struct Result {
        std::optional<sync::ControlMessage> control;
        std::bitset<max_workers> workers_fed;  // bit w: something was queued for worker w (to wake it)
        sync::DecodeError refused = sync::DecodeError::none;  // why the whole message was refused (logged)
    };
    // `rings` by worker; null `rings` (a master's socket): records are not installed, only
    // control messages are returned.
    Result receive(std::span<const uint8_t> bytes, const Snapshot* snap, Tick now,
                   const std::vector<SpscRing<SyncInstall>*>* rings);

    // Addresses (network order) the backup will send to if it takes over: the real server of
    // every queued connection, and its client unless the mode is DR/TUN (replies bypass us).
    // The main lcore resolves their next hops ahead (NeighborManager::resolve_ahead), so a
    // takeover does not start with every synced connection's first packets held for ARP.
    // Bounded (max_resolve_hints); the caller clears it after use.
    static constexpr size_t max_resolve_hints = 256;
    std::vector<uint32_t>& resolve_hints() { return resolve_hints_; }

private:
    // One record; true when queued.
    bool queue(const sync::SyncConn& c, const Snapshot& snap, Tick now, const std::vector<SpscRing<SyncInstall>*>& rings,
               unsigned& worker);

    uint8_t syncid_;
    unsigned nworkers_;
    fwd::TokenBucket rate_;
    SyncCounters& c_;
    sync::SyncMessage msg_;  // reused: its vectors keep their capacity
    std::vector<uint32_t> resolve_hints_;
};

}  // namespace dplb
