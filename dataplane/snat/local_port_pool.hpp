// The local ports of one local address that one worker may hand out: every port p in
// [first, last] with local_port_owner(p) == worker.
//
// Allocation is next-fit from a cursor, so a released port is reused only after the whole
// range has been walked: real servers keep closed connections in TIME_WAIT, and reusing
// (LIP, lport) at once toward the same server would hit them.
//
// Threading: acquire/release only by the owning worker; in_use() may be read by the control
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
    uint16_t acquire();
    void release(uint16_t port);

    // Acquire pairs with the release in acquire()/release(): a reader that sees 0 also sees
    // the owner's last write to the pool, so the control thread may then free it.
    uint32_t in_use() const { return in_use_.load(std::memory_order_acquire); }
    uint32_t size() const { return slots_; }

private:
    uint16_t port_of(uint32_t slot) const { return uint16_t(first_mine_ + slot * stride_); }

    uint32_t first_mine_ = 0;  // first port of [first, last] this worker owns
    uint32_t stride_;
    uint32_t slots_ = 0;
    uint32_t cursor_ = 0;     // next slot to try
    std::vector<uint64_t> used_;
    std::atomic<uint32_t> in_use_{0};
};

}  // namespace dplb
