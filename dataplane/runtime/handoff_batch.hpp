// Packets a worker hands to another worker (the owner, flow/owner.hpp), gathered per target
// and enqueued as one burst into that pair's single-producer/single-consumer rte_ring. The
// ring is bounded: what does not fit is given back to the caller, which drops and counts it
// (redirect_ring_full); nothing waits.
//
// Threading: a batch belongs to the worker that fills it (the ring's only producer); the
// target worker is the ring's only consumer.
#pragma once

#include <rte_ring.h>

#include <array>

namespace dplb::runtime {

template <class T, unsigned Capacity>
class HandoffBatch {
public:
    // Returns true when the batch is full and must be flushed before the next add().
    bool add(T* item) {
        items_[n_++] = item;
        return n_ == Capacity;
    }
    unsigned size() const { return n_; }

    // Enqueues the batch into `ring`; the items that did not fit go to refused(T*), in order.
    // Returns how many were enqueued. The batch is empty afterwards.
    template <class Refused>
    unsigned flush(rte_ring* ring, Refused&& refused) {
        if (n_ == 0) return 0;
        unsigned ok = rte_ring_sp_enqueue_burst(ring, reinterpret_cast<void**>(items_.data()), n_, nullptr);
        for (unsigned i = ok; i < n_; ++i) refused(items_[i]);
        n_ = 0;
        return ok;
    }

private:
    std::array<T*, Capacity> items_{};
    unsigned n_ = 0;
};

}  // namespace dplb::runtime
