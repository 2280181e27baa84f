// Master side: session events (SyncTap) to sync messages. Each event is resolved against
// the sender's snapshot (session_context: ids mean nothing to the peer), turned into a record
// (session_to_sync) and appended to the message being built (MessageBuilder, at most the
// daemon's sync_maxlen); a full message is sent at once, a partial one when its first record
// is flush_interval_ms old, so a record waits at most that long (IPVS's sender wakes every
// second; dplb's failover budget is tighter).
//
// Threading: one thread (the sync engine's, the main lcore), holding `snap` under QSBR.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/sync/sync_counters.hpp"
#include "dataplane/sync/sync_tap.hpp"
#include "sync/message_encoder.hpp"

namespace dplb {

class SyncBatcher {
public:
    static constexpr Tick flush_interval_ms = 100;
    // Sends one datagram; false when the socket refused it (counted).
    using Send = std::function<bool(std::span<const uint8_t>)>;

    SyncBatcher(uint8_t syncid, size_t max_payload, Send send, SyncCounters& counters)
        : builder_(syncid, max_payload), send_(std::move(send)), c_(counters) {}

    // False when the event's session is no longer in `snap` (not sent, counted).
    bool add(const SyncEvent& e, const Snapshot& snap, Tick now);
    // Sends the pending message if its first record has waited flush_interval_ms.
    void tick(Tick now);
    // Sends the pending message now (before a control message that must follow it).
    void flush();
    unsigned pending() const { return builder_.count(); }

private:
    sync::MessageBuilder builder_;
    Send send_;
    SyncCounters& c_;
    Tick first_ = 0;  // when the pending message got its first record
};

}  // namespace dplb
