// Every local (SNAT) address the dataplane has handed ports from, by stable id, with one
// port pool per worker.
//
// An address keeps its id while any snapshot names it or any session still holds one of its
// ports, so a session can always give its port back, even after the address left the
// configuration.
//
// Threading: entries are created and destroyed only by the control thread. A worker reads
// entry(id) for ids it got from the live snapshot (published after the entry was stored,
// with release ordering) or from its own sessions, and touches only pool(worker). The
// control thread destroys an entry only after no published snapshot names it (a QSBR grace
// period has passed) and every pool's in_use() is 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane/snat/local_port_pool.hpp"

namespace dplb {

class LocalAddress {
public:
    LocalAddress(uint32_t addr_be, uint16_t first_port, uint16_t last_port, unsigned nworkers);

    uint32_t address() const { return addr_; }
    LocalPortPool& pool(unsigned worker) { return *pools_[worker]; }
    uint64_t in_use() const;
    uint64_t capacity() const;  // ports over every worker's pool

private:
    uint32_t addr_;
    std::vector<std::unique_ptr<LocalPortPool>> pools_;  // separate allocations: no false sharing
};

class LocalAddressRegistry {
public:
    static constexpr uint16_t max_ids = 0xfffe;

    LocalAddressRegistry(unsigned nworkers, uint16_t first_port, uint16_t last_port);
    ~LocalAddressRegistry();

    // Worker side.
    LocalAddress* entry(uint16_t id) const { return entries_[id].load(std::memory_order_acquire); }

    // Control thread side. Returns the id of `addr_be`, creating its entry if needed;
    // no_laddr when all ids are taken.
    uint16_t acquire(uint32_t addr_be);
    // Destroys entries whose address is not in `referenced` and that hold no port. Call only
    // after a grace period since the last snapshot that named them was replaced.
    void collect(const std::unordered_set<uint32_t>& referenced);
    size_t size() const { return ids_.size(); }
    // Every address that has an entry (configured, or removed but still holding ports).
    template <class F>
    void for_each_address(F&& f) const {
        for (const auto& [addr, id] : ids_) f(addr);
    }
    // Control thread side: every entry, as f(const LocalAddress&) (`status`'s port use).
    template <class F>
    void for_each_entry(F&& f) const {
        for (const auto& [addr, id] : ids_) f(*entries_[id].load(std::memory_order_relaxed));
    }
    // Control thread side: whether `addr_be` has an entry, and how many ids are still free.
    bool contains(uint32_t addr_be) const { return ids_.count(addr_be) != 0; }
    size_t available() const { return free_ids_.size(); }

private:
    unsigned nworkers_;
    uint16_t first_port_, last_port_;
    std::vector<std::atomic<LocalAddress*>> entries_;
    std::unordered_map<uint32_t, uint16_t> ids_;  // control thread only
    std::vector<uint16_t> free_ids_;              // control thread only
};

}  // namespace dplb
