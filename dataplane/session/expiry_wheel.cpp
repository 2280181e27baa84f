#include "dataplane/session/expiry_wheel.hpp"

namespace dplb {

ExpiryWheel::ExpiryWheel(SessionTable& table, Tick now)
    : table_(table), cap_(table.capacity()), heads_(slot_count), cursor_(now & ~(slot_width - 1)) {
    for (uint32_t i = 0; i < slot_count; ++i) heads_[i] = {cap_ + i, cap_ + i};
}

void ExpiryWheel::add(Session* s) {
    // File in the slot holding `expires`, but never in a slot already processed and never
    // further than the horizon (the last slot before the cursor's).
    Tick t = s->expires;
    if (!tick_after(t, cursor_)) t = cursor_;
    if (t - cursor_ >= slot_count * slot_width - slot_width) t = cursor_ + (slot_count - 1) * slot_width;
    uint32_t id = table_.index_of(s);
    uint32_t head = cap_ + slot_of(t);
    uint32_t last = prev_of(head);
    s->wheel_next = head;
    s->wheel_prev = last;
    next_of(last) = id;
    prev_of(head) = id;
    ++size_;
}

void ExpiryWheel::remove(Session* s) {
    if (s->wheel_next == no_index) return;
    next_of(s->wheel_prev) = s->wheel_next;
    prev_of(s->wheel_next) = s->wheel_prev;
    s->wheel_next = s->wheel_prev = no_index;
    --size_;
}

}  // namespace dplb
