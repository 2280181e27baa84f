// The session-sync engine (docs/ha.md): runs the sync daemons of the configuration on the
// main lcore, off the fast path, between its other housekeeping.
//
//   master  drains every worker's SyncTap ring into a SyncBatcher and sends the messages
//           (full, or after 100 ms); answers a full_table_request by asking every worker for
//           a dump (SyncTap::serve_dump, chunked in the workers' loops), then sends
//           full_table_end with the number of records once every worker has finished and
//           its ring is drained.
//   backup  reads its socket (at most a bounded number of datagrams per call), hands the
//           records to SyncReceiver, which queues them on the owners' install rings, and
//           wakes those workers; sends full_table_request when it starts and every
//           request_interval_ms until a full_table_end answers it.
//
// The daemons come from SyncShared (the control thread sets them at every apply); a change
// closes every socket and opens the new set. A socket that cannot be opened (the interface
// is not there yet) is retried every retry_interval_ms, its error shown in `status`.
// The main lcore was chosen over a thread of its own: it already polls, is a QSBR reader
// (session_context and resolve_image need the snapshot), and sync traffic is small (a
// message carries ~30 sessions).
//
// Threading: main lcore only (construct, poll, destroy).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "dataplane/runtime/runtime.hpp"
#include "dataplane/sync/dump_gate.hpp"
#include "dataplane/sync/sync_batcher.hpp"
#include "dataplane/sync/sync_receiver.hpp"
#include "dataplane/sync/sync_socket.hpp"

namespace dplb::runtime {

class SyncEngine {
public:
    static constexpr Tick retry_interval_ms = 2000;
    static constexpr Tick request_interval_ms = 5000;
    // A backup's own retries must always pass the master's DumpGate.
    static_assert(DumpGate::min_interval_ms < request_interval_ms);

    explicit SyncEngine(Runtime& rt);
    ~SyncEngine();
    // One round of work; returns how much was done (0: the caller may sleep).
    unsigned poll(Tick now, const Snapshot* snap);
    // Calls f(address) for each next-hop hint the backup's receivers gathered since the last
    // call (SyncReceiver::resolve_hints), then forgets them.
    template <class F>
    void take_resolve_hints(F&& f) {
        for (auto& d : daemons_)
            if (d && d->receiver) {
                for (uint32_t a : d->receiver->resolve_hints()) f(a);
                d->receiver->resolve_hints().clear();
            }
    }

private:
    struct Daemon {
        SyncDaemonStatus status;
        std::optional<SyncSocket> socket;
        Tick retry_at = 0;
        std::unique_ptr<SyncBatcher> batcher;    // master
        std::unique_ptr<SyncReceiver> receiver;  // both: a master reads requests with it
        uint32_t request_id = 0;                 // backup
        Tick next_request = 0;                   // backup, while its table is not complete
    };

    void reconfigure(Tick now);
    void open(Daemon& d, Tick now);
    unsigned poll_socket(Daemon& d, Tick now, const Snapshot* snap);
    unsigned drain_events(Daemon* master, Tick now, const Snapshot* snap, unsigned limit);
    unsigned drain_tap(SyncTap& tap, Daemon* master, Tick now, const Snapshot* snap, unsigned limit);
    void start_dump(uint32_t request_id, Tick now);
    void finish_dump(Daemon& d, Tick now, const Snapshot* snap);
    void set_master(bool on);
    void publish_status();

    Runtime& rt_;
    uint64_t version_ = ~uint64_t(0);
    std::vector<std::unique_ptr<Daemon>> daemons_;
    std::vector<SpscRing<SyncInstall>*> rings_;
    bool master_on_ = false;
    // A full-table dump in progress (master).
    bool dumping_ = false;
    uint32_t dump_seq_ = 0;
    uint32_t dump_request_id_ = 0;
    DumpGate dump_gate_;
    std::vector<uint8_t> buf_;
};

}  // namespace dplb::runtime
