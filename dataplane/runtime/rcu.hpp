// Quiescent-state-based reclamation for everything workers read without locks.
//
// Readers (workers, and the main lcore) report a quiescent state once per loop iteration,
// and go offline before they block or sleep so writers never wait on a sleeping thread.
// A writer publishes a new object with one release store, then frees the old one after
// synchronize() (blocking, control thread) or once a token from start() checks complete
// (non-blocking, main lcore).
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>

namespace dplb::runtime {

class Rcu {
public:
    explicit Rcu(unsigned reader_threads) : threads_(reader_threads) {
        size_t sz = rte_rcu_qsbr_get_memsize(reader_threads);
        qs_ = static_cast<rte_rcu_qsbr*>(aligned_alloc(RTE_CACHE_LINE_SIZE, (sz + RTE_CACHE_LINE_SIZE - 1) &
                                                                                ~size_t(RTE_CACHE_LINE_SIZE - 1)));
        if (!qs_ || rte_rcu_qsbr_init(qs_, reader_threads) != 0) throw std::runtime_error("rte_rcu_qsbr_init failed");
    }
    ~Rcu() { free(qs_); }
    Rcu(const Rcu&) = delete;
    Rcu& operator=(const Rcu&) = delete;

    // Reader side: only the thread owning `id`.
    void register_reader(unsigned id) { rte_rcu_qsbr_thread_register(qs_, id); }
    void unregister_reader(unsigned id) { rte_rcu_qsbr_thread_unregister(qs_, id); }
    void online(unsigned id) { rte_rcu_qsbr_thread_online(qs_, id); }
    void offline(unsigned id) { rte_rcu_qsbr_thread_offline(qs_, id); }
    void quiescent(unsigned id) { rte_rcu_qsbr_quiescent(qs_, id); }

    // Writer side: any thread that is not an online reader.
    void synchronize() { rte_rcu_qsbr_synchronize(qs_, RTE_QSBR_THRID_INVALID); }
    uint64_t start() { return rte_rcu_qsbr_start(qs_); }
    bool done(uint64_t token) { return rte_rcu_qsbr_check(qs_, token, false) == 1; }

    unsigned threads() const { return threads_; }

private:
    unsigned threads_;
    rte_rcu_qsbr* qs_ = nullptr;
};

// A pointer readers load once per burst and writers replace wholesale.
// Threading: one writer thread per instance; any number of readers.
template <class T>
class Published {
public:
    const T* load() const { return p_.load(std::memory_order_acquire); }
    // Returns the previous object; the caller frees it after a grace period.
    const T* exchange(const T* next) { return p_.exchange(next, std::memory_order_acq_rel); }

private:
    std::atomic<const T*> p_{nullptr};
};

}  // namespace dplb::runtime
