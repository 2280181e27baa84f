// The local ports of one local address that one worker may hand out: every port p in
// [first, last] with local_port_owner(p) == worker.
//
// Allocation is next-fit from a cursor, so a released port is reused only after the whole
// range has been walked: real servers keep closed connections in TIME_WAIT, and reusing
// (LIP, lport) at once toward the same server would hit them.
//
// Threading: acquire/take/release only by the owning worker; in_use() may be read by the control
// thread at any time (relaxed).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace dplb {

class LocalPortPool {
public:
    LocalPortPool(uint16_t first, uint16_t last, unsigned worker, unsigned nworkers);

    // Host-order port, or 0 when every port of this worker is in use.
    uint16_t acquire() {
        bool matched;
        return acquire_preferring([](uint16_t) { return true; }, 1, matched);
    }
    // Like acquire(), but takes the first of the next `budget` free ports (in next-fit order)
    // for which `wanted(port)` holds, else the first free one; `matched` says which it was.
    template <class Pred>
    uint16_t acquire_preferring(Pred wanted, unsigned budget, bool& matched);
    void release(uint16_t port);
    // Takes that very port (a session synced from another node keeps its local port):
    // false, and nothing changes, when it is in use or not this worker's. The next-fit
    // cursor does not move.
    bool take(uint16_t port);

    // Acquire pairs with the release in acquire()/release(): a reader that sees 0 also sees
    // the owner's last write to the pool, so the control thread may then free it.
    uint32_t in_use() const { return in_use_.load(std::memory_order_acquire); }
    uint32_t size() const { return slots_; }

private:
    static constexpr uint32_t no_slot = ~0u;
    uint16_t port_of(uint32_t slot) const { return uint16_t(first_mine_ + slot * stride_); }
    uint16_t take_slot(uint32_t slot);
    // The slot of `port`, or no_slot when it is not one of this worker's.
    uint32_t slot_of(uint16_t port) const;
    void mark_used(uint32_t slot);

    uint32_t first_mine_ = 0;  // first port of [first, last] this worker owns
    uint32_t stride_;
    uint32_t slots_ = 0;
    uint32_t cursor_ = 0;     // next slot to try
    std::vector<uint64_t> used_;
    std::atomic<uint32_t> in_use_{0};
};

template <class Pred>
uint16_t LocalPortPool::acquire_preferring(Pred wanted, unsigned budget, bool& matched) {
    matched = false;
    if (slots_ == 0 || in_use() == slots_) return 0;
    const uint32_t words = uint32_t(used_.size());
    uint32_t w = cursor_ / 64;
    // First word: only bits at or after the cursor; then whole words, wrapping once.
    uint64_t free_bits = ~used_[w] & (~uint64_t(0) << (cursor_ % 64));
    uint32_t first = no_slot;
    for (uint32_t n = 0; budget && n <= words;) {
        if (free_bits == 0) {
            w = w + 1 == words ? 0 : w + 1;
            free_bits = ~used_[w];
            ++n;
            continue;
        }
        uint32_t slot = w * 64 + uint32_t(__builtin_ctzll(free_bits));
        free_bits &= free_bits - 1;
        if (first == no_slot) first = slot;
        --budget;
        if (wanted(port_of(slot))) {
            matched = true;
            return take_slot(slot);
        }
    }
    return first == no_slot ? 0 : take_slot(first);
}

}  // namespace dplb
