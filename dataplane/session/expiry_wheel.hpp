// Session expiry without scanning and without stalls: a timing wheel of doubly linked
// lists threaded through the sessions themselves.
//
// Sessions are filed by `expires`. Traffic only moves `expires` later (a store in the line
// the packet already touched); the wheel notices when the slot comes due and files the
// session again. When a state change moves `expires` earlier, the caller calls
// reschedule(). expire() handles at most `budget` sessions per call, so a burst of
// expirations is spread over several loop iterations instead of stalling one.
//
// Slot width 128 ms, 8192 slots: a ~17 min horizon; later deadlines are parked in the last
// slot and re-filed. Expiry is late by at most one slot width.
//
// Threading: owned by the worker that owns the table.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/session/session_table.hpp"
#include "dataplane/session/time.hpp"

namespace dplb {

class ExpiryWheel {
public:
    static constexpr unsigned slot_shift = 7;  // 128 ms
    static constexpr uint32_t slot_count = 8192;
    static constexpr Tick slot_width = Tick(1) << slot_shift;

    ExpiryWheel(SessionTable& table, Tick now);

    void add(Session* s);
    void remove(Session* s);
    void reschedule(Session* s) {
        remove(s);
        add(s);
    }

    // Calls on_expired(Session*) for due sessions (already off the wheel; the callback
    // erases them), re-files the ones whose deadline moved and tells on_refiled(Session*)
    // (session sync's refresh rule). Returns sessions handled.
    template <class F, class G>
    unsigned expire(Tick now, unsigned budget, F&& on_expired, G&& on_refiled);
    template <class F>
    unsigned expire(Tick now, unsigned budget, F&& on_expired) {
        return expire(now, budget, on_expired, [](Session*) {});
    }

    size_t size() const { return size_; }

private:
    // Link ids: [0, capacity) are sessions, [capacity, capacity + slot_count) are list heads.
    uint32_t& next_of(uint32_t id) { return id < cap_ ? table_.at(id)->wheel_next : heads_[id - cap_].next; }
    uint32_t& prev_of(uint32_t id) { return id < cap_ ? table_.at(id)->wheel_prev : heads_[id - cap_].prev; }
    uint32_t slot_of(Tick t) const { return (t >> slot_shift) & (slot_count - 1); }

    struct Head {
        uint32_t next, prev;
    };
    SessionTable& table_;
    uint32_t cap_;
    std::vector<Head> heads_;
    Tick cursor_;  // start of the oldest slot not yet processed
    size_t size_ = 0;
};

template <class F, class G>
unsigned ExpiryWheel::expire(Tick now, unsigned budget, F&& on_expired, G&& on_refiled) {
    unsigned done = 0;
    while (done < budget) {
        // A slot is processed once it lies entirely in the past.
        if (!tick_reached(now, cursor_ + slot_width)) break;
        uint32_t head = cap_ + slot_of(cursor_);
        uint32_t id = next_of(head);
        if (id == head) {
            cursor_ += slot_width;
            continue;
        }
        Session* s = table_.at(id);
        remove(s);
        ++done;
        if (tick_reached(now, s->expires)) {
            on_expired(s);
        } else {
            add(s);
            on_refiled(s);
        }
    }
    return done;
}

}  // namespace dplb
