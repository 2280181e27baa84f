// Read-only open-addressing hash map for snapshot lookups (services, local addresses).
// Built once off the fast path, then only read: a lookup is a multiply, a mask and usually
// one cache line.
#pragma once

#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

namespace dplb {

template <class V>
class FlatMap {
public:
    static constexpr uint64_t empty_key = ~uint64_t(0);  // never a valid key

    FlatMap() { slots_.resize(1); }

    // Later duplicates overwrite earlier ones.
    explicit FlatMap(const std::vector<std::pair<uint64_t, V>>& items) {
        size_t cap = std::bit_ceil(items.size() * 2 + 2);
        slots_.assign(cap, Slot{});
        shift_ = 64 - unsigned(std::countr_zero(cap));
        for (const auto& [k, v] : items) {
            size_t i = index(k);
            while (slots_[i].key != empty_key && slots_[i].key != k) i = (i + 1) & (cap - 1);
            if (slots_[i].key == empty_key) ++size_;
            slots_[i] = Slot{k, v};
        }
    }

    const V* find(uint64_t key) const {
        size_t mask = slots_.size() - 1;
        for (size_t i = index(key);; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.key == key) return &s.value;
            if (s.key == empty_key) return nullptr;
        }
    }
    size_t size() const { return size_; }

    template <class F>
    void for_each(F&& f) const {
        for (const auto& s : slots_)
            if (s.key != empty_key) f(s.key, s.value);
    }

private:
    struct Slot {
        uint64_t key = empty_key;
        V value{};
    };
    size_t index(uint64_t key) const { return shift_ == 64 ? 0 : size_t((key * 0x9e3779b97f4a7c15ull) >> shift_); }

    std::vector<Slot> slots_;
    unsigned shift_ = 64;
    size_t size_ = 0;
};

}  // namespace dplb
