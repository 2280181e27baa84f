#include "dataplane/sync/sync_batcher.hpp"

#include "dataplane/sync/sync_context.hpp"

namespace dplb {

bool SyncBatcher::add(const SyncEvent& e, const Snapshot& snap, Tick now) {
    const Session s = e.session();
    SessionContext ctx;
    if (!session_context(s, snap, &ctx)) {
        c_.events_no_context.add();
        return false;
    }
    const sync::SyncConn rec = session_to_sync(s, ctx, e.now);
    if (builder_.empty()) first_ = now;
    if (!builder_.add(rec)) {  // full: send it, start the next with this record
        flush();
        first_ = now;
        builder_.add(rec);  // fits: the builder's minimum size holds the largest record
    }
    return true;
}

void SyncBatcher::tick(Tick now) {
    if (!builder_.empty() && tick_reached(now, first_ + flush_interval_ms)) flush();
}

void SyncBatcher::flush() {
    if (builder_.empty()) return;
    if (send_(builder_.bytes())) {
        c_.messages_sent.add();
        c_.records_sent.add(builder_.count());
    } else {
        c_.send_errors.add();
    }
    builder_.reset();
}

}  // namespace dplb
