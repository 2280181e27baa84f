// A bounded single-producer single-consumer queue of small fixed records, free of EAL so
// the session-sync code that uses it is unit-tested without DPDK.
//
// Session sync moves records between a worker and the main lcore in both directions
// (worker -> sender: session events; receiver -> worker: sessions to install). rte_ring would
// do, but it needs EAL to exist; this is the same Lamport queue: the producer owns `head_`,
// the consumer `tail_`, each reads the other's index with acquire and publishes its own with
// release, so a slot's contents are visible before the index that hands it over.
//
// Threading: push() and free_space() by exactly one producer thread; pop() by exactly one
// consumer thread; size() by anyone (approximate). No allocation after construction.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>

namespace dplb {

template <class T>
class SpscRing {
public:
    // Capacity rounded up to a power of two, at least 2.
    explicit SpscRing(uint32_t capacity)
        : mask_(std::bit_ceil(capacity < 2 ? 2u : capacity) - 1), slots_(new T[size_t(mask_) + 1]) {}
    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    // Producer: false (nothing written) when full.
    bool push(const T& v) {
        const uint32_t h = head_.load(std::memory_order_relaxed);
        if (h - tail_.load(std::memory_order_acquire) > mask_) return false;
        slots_[h & mask_] = v;
        head_.store(h + 1, std::memory_order_release);
        return true;
    }
    // Producer: how many push() calls will succeed at least.
    uint32_t free_space() const {
        return mask_ + 1 - (head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_acquire));
    }
    // Consumer: false when empty.
    bool pop(T& out) {
        const uint32_t t = tail_.load(std::memory_order_relaxed);
        if (t == head_.load(std::memory_order_acquire)) return false;
        out = slots_[t & mask_];
        tail_.store(t + 1, std::memory_order_release);
        return true;
    }
    uint32_t size() const { return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire); }
    uint32_t capacity() const { return mask_ + 1; }

private:
    const uint32_t mask_;
    std::unique_ptr<T[]> slots_;
    alignas(64) std::atomic<uint32_t> head_{0};  // next slot to write; producer only
    alignas(64) std::atomic<uint32_t> tail_{0};  // next slot to read; consumer only
};

}  // namespace dplb
