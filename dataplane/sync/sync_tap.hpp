// The master side's hand-off from a worker to the session-sync sender: a fixed record per
// session event in a per-worker SPSC ring, and the full-table dump a peer asked for.
//
// Events (SyncEventKind): a connection or template was created; a connection changed state;
// the expiry wheel re-filed a session whose deadline traffic had moved later (the refresh
// rule, docs/ha.md "Refresh": a session is re-sent each time the deadline last filed comes
// due while the session lives on, i.e. about once per timeout of its state, and the backup
// keeps synced sessions sync_expiry_grace_ms longer than the timeout it was sent, so the
// refresh arrives before the backup's copy expires); a session ended (sent with 1 s left,
// so the backup drops it soon: the IPVS record has no "deleted"); a session was dumped for a
// full_table_request.
//
// The worker only copies 52 bytes into a preallocated ring: no allocation, lock or syscall.
// A full ring loses the event, counted (WorkerCounters::sync_events_lost); the session is
// re-sent at its next change or refresh.
//
// Threading: one SyncTap per worker. `events`: the worker produces, the main lcore (sender)
// consumes. `enabled`: written by the main lcore (a master daemon runs), read relaxed by the
// worker. Dump: the main lcore writes dump_request (release) after the previous dump was
// served; the worker serves it, writes dump_records then dump_served = dump_request (release);
// the main lcore reads dump_served (acquire), then dump_records.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/session/session.hpp"
#include "dataplane/stats/worker_counters.hpp"
#include "dataplane/sync/spsc_ring.hpp"

namespace dplb {

enum class SyncEventKind : uint8_t { created, state_changed, refreshed, ended, dumped };

struct SyncEvent {
    FlowKey orig;
    FlowKey reply;
    Tick expires = 0;  // ended: the event's time (nothing left)
    Tick now = 0;      // when the worker saw it: the record's timeout is expires - now
    uint32_t real_id = 0;
    uint32_t service_id = 0;
    SessionState state = SessionState::tcp_none;
    uint8_t flags = 0;
    SyncEventKind kind = SyncEventKind::created;

    static SyncEvent of(const Session& s, SyncEventKind k, Tick now) {
        SyncEvent e;
        e.orig = s.orig;
        e.reply = s.reply;
        e.expires = k == SyncEventKind::ended ? now : s.expires;
        e.now = now;
        e.real_id = s.real_id;
        e.service_id = s.service_id;
        e.state = s.state;
        e.flags = s.flags;
        e.kind = k;
        return e;
    }
    // The session as session_to_sync() wants it (ids, keys, state, flags, deadline).
    Session session() const {
        Session s;
        s.orig = orig;
        s.reply = reply;
        s.expires = expires;
        s.real_id = real_id;
        s.service_id = service_id;
        s.state = state;
        s.flags = flags;
        return s;
    }
};

class SyncTap {
public:
    explicit SyncTap(uint32_t ring_capacity) : events(ring_capacity) {}

    // Worker: one event, if a master daemon runs.
    void emit(const Session& s, SyncEventKind k, Tick now, WorkerCounters& c) {
        if (!enabled.load(std::memory_order_relaxed)) return;
        if (events.push(SyncEvent::of(s, k, now)))
            c.sync_events.add();
        else
            c.sync_events_lost.add();
    }

    // Worker, every loop iteration: serves a pending dump in chunks of at most `slots` table
    // slots and never more than the ring has room for (a slot holds at most one session),
    // so forwarding never stalls and no dumped record is lost to a full ring. `visit` is
    // Forwarder::visit_sessions. Returns the sessions pushed, but at least 1 while a dump is
    // pending: a chunk of empty slots or a full ring is still work to come back to, and the
    // worker must not go to sleep between chunks (a sparse table would take minutes).
    template <class Visit>
    unsigned serve_dump(Visit&& visit, Tick now, unsigned slots, WorkerCounters& c) {
        const uint32_t want = dump_request.load(std::memory_order_acquire);
        if (want == dump_served.load(std::memory_order_relaxed)) return 0;
        if (want != dump_active_) {  // a new request: start from the first slot
            dump_active_ = want;
            dump_cursor_ = 0;
            dump_count_ = 0;
        }
        const uint32_t room = events.free_space();
        const unsigned budget = room < slots ? room : slots;
        if (budget == 0) return 1;  // the sender drains the ring; come back next iteration
        unsigned pushed = 0;
        bool more = visit(dump_cursor_, budget, [&](const Session& s) {
            if (events.push(SyncEvent::of(s, SyncEventKind::dumped, now))) ++pushed;
        });
        dump_count_ += pushed;
        c.sync_dumped.add(pushed);
        if (!more) {
            dump_records.store(dump_count_, std::memory_order_relaxed);
            dump_served.store(want, std::memory_order_release);
            return pushed;
        }
        return pushed ? pushed : 1;
    }

    SpscRing<SyncEvent> events;
    std::atomic<bool> enabled{false};
    std::atomic<uint32_t> dump_request{0};  // main lcore: a new value asks for a dump
    std::atomic<uint32_t> dump_served{0};   // worker: the last request it finished
    std::atomic<uint32_t> dump_records{0};  // worker: how many sessions that dump pushed

private:
    // Worker only.
    uint32_t dump_active_ = 0;
    uint32_t dump_cursor_ = 0;
    uint32_t dump_count_ = 0;
};

}  // namespace dplb
