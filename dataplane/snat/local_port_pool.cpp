#include "dataplane/snat/local_port_pool.hpp"

#include "dataplane/snat/port_owner.hpp"

namespace dplb {

LocalPortPool::LocalPortPool(uint16_t first, uint16_t last, unsigned worker, unsigned nworkers)
    : stride_(nworkers) {
    uint32_t p = first;
    while (p <= last && local_port_owner(uint16_t(p), nworkers) != worker) ++p;
    first_mine_ = p;
    slots_ = p <= last ? (uint32_t(last) - p) / nworkers + 1 : 0;
    used_.assign((slots_ + 63) / 64, 0);
    // Bits past the end are marked used so the scan never returns them.
    if (slots_ % 64) used_.back() = ~uint64_t(0) << (slots_ % 64);
}

void LocalPortPool::mark_used(uint32_t slot) {
    used_[slot / 64] |= uint64_t(1) << (slot % 64);
    in_use_.store(in_use_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

uint16_t LocalPortPool::take_slot(uint32_t slot) {
    mark_used(slot);
    cursor_ = slot + 1 == slots_ ? 0 : slot + 1;
    return port_of(slot);
}

uint32_t LocalPortPool::slot_of(uint16_t port) const {
    // Not ours: below our first port, past our last, or another worker's share.
    if (port < first_mine_ || (uint32_t(port) - first_mine_) % stride_ != 0) return no_slot;
    uint32_t slot = (uint32_t(port) - first_mine_) / stride_;
    return slot < slots_ ? slot : no_slot;
}

bool LocalPortPool::take(uint16_t port) {
    const uint32_t slot = slot_of(port);
    if (slot == no_slot || (used_[slot / 64] & (uint64_t(1) << (slot % 64)))) return false;
    mark_used(slot);
    return true;
}

void LocalPortPool::release(uint16_t port) {
    const uint32_t slot = slot_of(port);
    if (slot == no_slot) return;
    uint64_t bit = uint64_t(1) << (slot % 64);
    if (!(used_[slot / 64] & bit)) return;
    used_[slot / 64] &= ~bit;
    in_use_.store(in_use_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
}

}  // namespace dplb
