#include "dataplane/snat/local_address_registry.hpp"

#include <algorithm>

#include "dataplane/session/session.hpp"

namespace dplb {

LocalAddress::LocalAddress(uint32_t addr_be, uint16_t first_port, uint16_t last_port, unsigned nworkers)
    : addr_(addr_be) {
    for (unsigned w = 0; w < nworkers; ++w)
        pools_.push_back(std::make_unique<LocalPortPool>(first_port, last_port, w, nworkers));
}

uint64_t LocalAddress::in_use() const {
    uint64_t n = 0;
    for (const auto& p : pools_) n += p->in_use();
    return n;
}

uint64_t LocalAddress::capacity() const {
    uint64_t n = 0;
    for (const auto& p : pools_) n += p->size();
    return n;
}

LocalAddressRegistry::LocalAddressRegistry(unsigned nworkers, uint16_t first_port, uint16_t last_port)
    : nworkers_(nworkers), first_port_(first_port), last_port_(last_port), entries_(max_ids) {
    for (uint16_t id = max_ids; id > 0; --id) free_ids_.push_back(uint16_t(id - 1));
}

LocalAddressRegistry::~LocalAddressRegistry() {
    for (auto& e : entries_) delete e.load(std::memory_order_relaxed);
}

uint16_t LocalAddressRegistry::acquire(uint32_t addr_be) {
    if (auto it = ids_.find(addr_be); it != ids_.end()) return it->second;
    if (free_ids_.empty()) return no_laddr;
    uint16_t id = free_ids_.back();
    free_ids_.pop_back();
    entries_[id].store(new LocalAddress(addr_be, first_port_, last_port_, nworkers_), std::memory_order_release);
    ids_.emplace(addr_be, id);
    return id;
}

void LocalAddressRegistry::collect(const std::unordered_set<uint32_t>& referenced) {
    for (auto it = ids_.begin(); it != ids_.end();) {
        LocalAddress* e = entries_[it->second].load(std::memory_order_relaxed);
        bool keep = e->in_use() != 0 ||
                    referenced.count(it->first) != 0;
        if (keep) {
            ++it;
            continue;
        }
        entries_[it->second].store(nullptr, std::memory_order_relaxed);
        delete e;
        free_ids_.push_back(it->second);
        it = ids_.erase(it);
    }
}

}  // namespace dplb
