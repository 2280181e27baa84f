// A statistics counter written by exactly one thread and read by any.
//
// The owner increments with a relaxed load + store (a plain add on x86, no locked
// instruction); readers load relaxed and sum across workers. Never incremented by two
// threads: that would lose counts.
#pragma once

#include <atomic>
#include <cstdint>

namespace dplb {

class Counter {
public:
    void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void sub(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
    uint64_t get() const { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> v_{0};
};

}  // namespace dplb
