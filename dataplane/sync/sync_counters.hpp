// Session sync's counters outside the workers (the workers' own are in WorkerCounters,
// sync_*): what the sender sent, what the receiver got and why it refused what it refused.
// One counter per DecodeError, ImageError and ResolveError value, named by its to_string.
//
// Threading: written by the thread that runs the sync engine (the main lcore), read by the
// control thread (status). Counter's single-writer rule holds: one engine.
#pragma once

#include "dataplane/stats/counter.hpp"
#include "dataplane/sync/session_sync.hpp"
#include "dataplane/sync/sync_context.hpp"
#include "sync/decode_error.hpp"

namespace dplb {

// Name and member of every scalar counter, for the status JSON.
#define DPLB_SYNC_COUNTERS(X)                                                                        \
    /* Sender (master). */                                                                          \
    X(messages_sent) X(records_sent) X(send_errors)                                                 \
    X(events_no_context) /* sessions whose service or server left the snapshot: not sent */        \
    X(full_table_requests_received) X(full_table_dumps) X(full_table_ends_sent)                      \
    /* Receiver (backup). */                                                                        \
    X(messages_received) X(records_received) X(receive_errors)                                      \
    X(wrong_syncid)      /* messages of another syncid (a backup with syncid 0 takes all) */       \
    X(own_messages)      /* datagrams from one of this node's addresses (ignored) */                \
    X(no_snapshot)       /* records that arrived before any configuration */                       \
    X(fullnat_owner_mismatch) /* lport % workers names another worker than the client's owner */    \
    X(install_ring_full) X(install_rate_limited) X(installs_queued)                                 \
    X(full_table_requests_sent) X(full_table_ends_received) X(full_table_records_announced)          \
    X(worker_count_mismatch) /* a peer's control message says another worker count */             \
    X(full_table_requests_refused) /* within DumpGate::min_interval_ms of the last dump start */   \
    X(events_no_master) /* events a tap still held when no master daemon ran: not sent */         \
    X(foreign_source) /* unicast peers configured: datagrams from any other address (ignored) */

struct SyncCounters {
#define DPLB_SYNC_MEMBER(name) Counter name;
    DPLB_SYNC_COUNTERS(DPLB_SYNC_MEMBER)
#undef DPLB_SYNC_MEMBER
    Counter decode[sync::decode_error_count];       // by DecodeError (index 0 unused)
    Counter image[unsigned(ImageError::count_)];     // by ImageError
    Counter resolve[unsigned(ResolveError::count_)]; // by ResolveError
};

struct SyncCounterField {
    const char* name;
    Counter SyncCounters::*member;
};
inline constexpr SyncCounterField sync_counter_fields[] = {
#define DPLB_SYNC_FIELD(name) {#name, &SyncCounters::name},
    DPLB_SYNC_COUNTERS(DPLB_SYNC_FIELD)
#undef DPLB_SYNC_FIELD
};

}  // namespace dplb
