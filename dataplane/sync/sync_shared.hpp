// What the control thread and the sync engine (main lcore) share: the daemons the
// configuration asks for (config::Config::sync_daemons, handed over at each apply) and what
// the engine made of them (for `status`).
//
// Threading: set_config()/status() by the control thread, config()/set_status() by the
// engine, under one mutex (neither is a fast path; a few times per configuration change and
// per status request). `version` lets the engine notice a change with one atomic load per
// loop iteration.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "dplb/config.hpp"

namespace dplb {

struct SyncDaemonStatus {
    config::SyncDaemon daemon;
    bool running = false;    // its socket is open
    std::string error;       // why it is not (retried every few seconds)
    std::string netns;       // the namespace its socket lives in ("" = the dataplane's)
    bool table_complete = false;  // backup: a full_table_end answered its request
};

class SyncShared {
public:
    // Control thread: the daemons of the configuration just applied.
    void set_config(const std::vector<config::SyncDaemon>& d) {
        std::lock_guard g(m_);
        if (d == daemons_) return;
        daemons_ = d;
        version_.fetch_add(1, std::memory_order_release);
    }
    uint64_t version() const { return version_.load(std::memory_order_acquire); }
    std::vector<config::SyncDaemon> config(uint64_t* version) const {
        std::lock_guard g(m_);
        *version = version_.load(std::memory_order_relaxed);
        return daemons_;
    }
    void set_status(std::vector<SyncDaemonStatus> s) {
        std::lock_guard g(m_);
        status_ = std::move(s);
    }
    std::vector<SyncDaemonStatus> status() const {
        std::lock_guard g(m_);
        return status_;
    }

private:
    mutable std::mutex m_;
    std::atomic<uint64_t> version_{0};
    std::vector<config::SyncDaemon> daemons_;
    std::vector<SyncDaemonStatus> status_;
};

}  // namespace dplb
