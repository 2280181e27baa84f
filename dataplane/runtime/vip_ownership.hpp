// VIP ownership that follows the kernel (`"vip_ownership": "kernel"`, docs/ha.md): the main
// lcore reads the kernel twins' addresses (KernelAddressWatch) and, when they or the
// configuration snapshot change, builds the set of owned VIPs and local addresses
// (OwnedAddresses) and publishes it for the workers; the old set is freed after a QSBR grace
// period, checked without blocking.
//
// Threading: constructed on the main thread before the workers start (it publishes an empty
// set, so no worker ever serves a VIP the kernel has not given it); update() on the main lcore
// only, as a QSBR reader of the snapshot it is handed; status() from any thread (a mutex
// guards the copy it returns: the main lcore takes it only when the set changes, never on
// the packet path). Destroyed after every reader has stopped.
#pragma once

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "dataplane/config/owned_addresses.hpp"
#include "dataplane/runtime/kernel_address_watch.hpp"
#include "dataplane/runtime/rcu.hpp"
#include "dataplane/stats/counter.hpp"

namespace dplb::runtime {

class VipOwnership {
public:
    VipOwnership(Published<OwnedAddresses>& published, Rcu& rcu, const LocalAddressRegistry& laddrs,
                 KernelAddressWatch watch);
    ~VipOwnership();
    VipOwnership(const VipOwnership&) = delete;
    VipOwnership& operator=(const VipOwnership&) = delete;

    // Reads the kernel's news, rebuilds and publishes the owned set if they or `snap` (its
    // sequence) changed, reclaims old sets. True when the owned addresses changed.
    bool update(const Snapshot* snap);
    // The set last published (main lcore).
    const OwnedAddresses* current() const { return current_; }

    struct Status {
        bool synced = false;                  // every twin's namespace has answered its dump
        std::vector<uint32_t> kernel;         // the twins' addresses
        std::vector<uint32_t> vips, laddrs;   // owned
        uint64_t vips_gained = 0, vips_lost = 0, laddrs_gained = 0, laddrs_lost = 0;
        uint64_t publications = 0;            // owned sets published
        uint64_t netlink_events = 0, netlink_resyncs = 0, netlink_errors = 0;
    };
    Status status() const;

private:
    void publish(OwnedAddresses next);
    void reclaim(bool wait_all);

    Published<OwnedAddresses>& published_;
    Rcu& rcu_;
    const LocalAddressRegistry& laddrs_;
    KernelAddressWatch watch_;
    const OwnedAddresses* current_ = nullptr;
    uint64_t seen_sequence_ = 0;
    uint64_t status_events_ = 0;  // watch_.events() when status_ was last refreshed
    std::vector<std::pair<uint64_t, const OwnedAddresses*>> retired_;  // (RCU token, set)
    mutable std::mutex status_mutex_;
    Status status_;  // guarded by status_mutex_
};

}  // namespace dplb::runtime
