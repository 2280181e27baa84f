#include "dataplane/runtime/vip_ownership.hpp"

#include <algorithm>
#include <iterator>

#include "common/log.hpp"

namespace dplb::runtime {

namespace {

// The addresses of `b` that are not in `a` (both ascending).
std::vector<uint32_t> added(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    std::vector<uint32_t> d;
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(d));
    return d;
}



}  // namespace

VipOwnership::VipOwnership(Published<OwnedAddresses>& published, Rcu& rcu, const LocalAddressRegistry& laddrs,
                           KernelAddressWatch watch)
    : published_(published), rcu_(rcu), laddrs_(laddrs), watch_(std::move(watch)) {
    current_ = new OwnedAddresses{};
    delete published_.exchange(current_);  // before any worker runs: nothing can read the old one
}

VipOwnership::~VipOwnership() {
    reclaim(true);
    delete published_.exchange(nullptr);  // every reader has stopped
}

bool VipOwnership::update(const Snapshot* snap) {
    const bool kernel_changed = watch_.poll();
    const bool snap_changed = snap && snap->sequence != seen_sequence_;
    reclaim(false);
    if (kernel_changed || watch_.events() != status_events_) {
        status_events_ = watch_.events();
        std::lock_guard<std::mutex> g(status_mutex_);
        status_.synced = watch_.synced();
        status_.kernel = watch_.addresses();
        status_.netlink_events = watch_.events();
        status_.netlink_resyncs = watch_.resyncs();
        status_.netlink_errors = watch_.errors();
    }
    if (!snap || !(kernel_changed || snap_changed)) return false;  // no configuration yet, or nothing new
    seen_sequence_ = snap->sequence;
    OwnedAddresses next = build_owned(watch_.addresses(), *snap, laddrs_);
    const bool changed = next.vips != current_->vips || next.laddrs != current_->laddrs;
    {
        std::lock_guard<std::mutex> g(status_mutex_);
        if (changed) {
            const auto vips_gained = added(current_->vips, next.vips), vips_lost = added(next.vips, current_->vips);
            const auto laddrs_gained = added(current_->laddrs, next.laddrs);
            const auto laddrs_lost = added(next.laddrs, current_->laddrs);
            // One line per address. A kernel address flapping (keepalived moving a VIP back
            // and forth) could multiply them: rate-limited per event name.
            const log::Logger log;
            for (uint32_t a : vips_gained) log.limited(log::Level::notice, "vip_owned", {{"vip", Ip4{a}.str()}});
            for (uint32_t a : vips_lost) log.limited(log::Level::notice, "vip_released", {{"vip", Ip4{a}.str()}});
            for (uint32_t a : laddrs_gained) log.limited(log::Level::notice, "laddr_owned", {{"laddr", Ip4{a}.str()}});
            for (uint32_t a : laddrs_lost) log.limited(log::Level::notice, "laddr_released", {{"laddr", Ip4{a}.str()}});
            status_.vips_gained += vips_gained.size();
            status_.vips_lost += vips_lost.size();
            status_.laddrs_gained += laddrs_gained.size();
            status_.laddrs_lost += laddrs_lost.size();
            status_.vips = next.vips;
            status_.laddrs = next.laddrs;
            ++status_.publications;
        }
    }
    // Published even when the lists are equal: the snapshot may have moved an address's kinds.
    publish(std::move(next));
    return changed;
}

VipOwnership::Status VipOwnership::status() const {
    std::lock_guard<std::mutex> g(status_mutex_);
    return status_;
}

void VipOwnership::publish(OwnedAddresses next) {
    current_ = new OwnedAddresses(std::move(next));
    const OwnedAddresses* old = published_.exchange(current_);
    if (old) retired_.emplace_back(rcu_.start(), old);
}

void VipOwnership::reclaim(bool wait_all) {
    while (!retired_.empty()) {
        auto [token, set] = retired_.front();
        if (!wait_all && !rcu_.done(token)) break;  // tokens are increasing: the rest are newer
        if (wait_all) rcu_.synchronize();
        delete set;
        retired_.erase(retired_.begin());
    }
}

}  // namespace dplb::runtime
