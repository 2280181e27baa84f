// Read-only open-addressing hash map for snapshot lookups (services, local addresses).
// Built once off the fast path, then only read: a lookup is a multiply, a mask and usually
// one cache line. Copies share the (immutable) slots, so a snapshot whose map did not change
// reuses the previous snapshot's instead of rebuilding it.
//
// Threading: immutable once built; a copy may be made on another thread than the readers'
// (the shared_ptr's count is touched by the control thread only).
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace dplb {

template <class V>
class FlatMap {
public:
    static constexpr uint64_t empty_key = ~uint64_t(0);  // never a valid key

    FlatMap() : FlatMap(std::vector<std::pair<uint64_t, V>>{}) {}

    // Later duplicates overwrite earlier ones.
    explicit FlatMap(const std::vector<std::pair<uint64_t, V>>& items) {
        size_t cap = items.empty() ? 1 : std::bit_ceil(items.size() * 2 + 2);
        std::shared_ptr<Slot[]> slots(new Slot[cap]);
        shift_ = cap == 1 ? 64 : 64 - unsigned(std::countr_zero(cap));
        mask_ = cap - 1;
        for (const auto& [k, v] : items) {
            size_t i = index(k);
            while (slots[i].key != empty_key && slots[i].key != k) i = (i + 1) & mask_;
            if (slots[i].key == empty_key) ++size_;
            slots[i] = Slot{k, v};
        }
        slots_ = slots.get();
        storage_ = std::move(slots);
    }

    const V* find(uint64_t key) const {
        const size_t mask = mask_;
        for (size_t i = index(key);; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.key == key) return &s.value;
            if (s.key == empty_key) return nullptr;
        }
    }
    size_t size() const { return size_; }

    template <class F>
    void for_each(F&& f) const {
        for (size_t i = 0; i <= mask_; ++i)
            if (slots_[i].key != empty_key) f(slots_[i].key, slots_[i].value);
    }

private:
    struct Slot {
        uint64_t key = empty_key;
        V value{};
    };
    size_t index(uint64_t key) const { return shift_ == 64 ? 0 : size_t((key * 0x9e3779b97f4a7c15ull) >> shift_); }

    std::shared_ptr<const Slot[]> storage_;
    const Slot* slots_ = nullptr;
    size_t mask_ = 0;
    unsigned shift_ = 64;
    size_t size_ = 0;
};

}  // namespace dplb
