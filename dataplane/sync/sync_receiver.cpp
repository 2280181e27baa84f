#include "dataplane/sync/sync_receiver.hpp"

#include <algorithm>

#include "dataplane/sync/sync_context.hpp"
#include "dataplane/sync/sync_owner.hpp"

namespace dplb {

namespace {
// A tenth of a second of installs at once: a full-table dump arrives as a burst.
uint32_t install_burst(uint32_t pps) { return std::max<uint32_t>(pps / 10, 64); }
}  // namespace

SyncReceiver::SyncReceiver(uint8_t syncid, unsigned nworkers, uint32_t install_pps, Tick now, SyncCounters& counters)
    : syncid_(syncid), nworkers_(nworkers ? nworkers : 1), rate_(install_pps, install_burst(install_pps), now), c_(counters) {}

SyncReceiver::Result SyncReceiver::receive(std::span<const uint8_t> bytes, const Snapshot* snap, Tick now,
                                           const std::vector<SpscRing<SyncInstall>*>* rings) {
    Result r;
    msg_.conns.clear();
    msg_.skipped.clear();
    msg_.control.reset();
    if (sync::DecodeError e = sync::decode_message(bytes, msg_); e != sync::DecodeError::none) {
        c_.decode[unsigned(e)].add();
        r.refused = e;
        return r;
    }
    if (syncid_ != 0 && msg_.syncid != syncid_) {
        c_.wrong_syncid.add();
        return r;
    }
    c_.messages_received.add();
    for (const sync::SkippedRecord& s : msg_.skipped) c_.decode[unsigned(s.reason)].add();
    if (msg_.control) {
        if (msg_.control->nworkers != nworkers_) c_.worker_count_mismatch.add();
        r.control = msg_.control;
        return r;
    }
    if (!rings) return r;
    c_.records_received.add(msg_.conns.size());
    if (!snap) {
        c_.no_snapshot.add(msg_.conns.size());
        return r;
    }
    for (const sync::SyncConn& c : msg_.conns) {
        unsigned w = 0;
        if (queue(c, *snap, now, *rings, w)) r.workers_fed.set(w);
    }
    return r;
}

bool SyncReceiver::queue(const sync::SyncConn& c, const Snapshot& snap, Tick now,
                         const std::vector<SpscRing<SyncInstall>*>& rings, unsigned& worker) {
    SyncInstall in;
    if (ImageError e = sync_to_image(c, &in.image); e != ImageError::none) {
        c_.image[unsigned(e)].add();
        return false;
    }
    ResolvedImage res;
    if (ResolveError e = resolve_image(in.image, snap, &res); e != ResolveError::none) {
        c_.resolve[unsigned(e)].add();
        return false;
    }
    const auto owner = sync_owner(in.image, res.service->persistent, res.service->persist_mask, nworkers_);
    if (!owner) {
        c_.fullnat_owner_mismatch.add();
        return false;
    }
    if (!rate_.take(now)) {
        c_.install_rate_limited.add();
        return false;
    }
    in.service_id = res.service->id;
    in.real_id = res.real->id;
    worker = *owner < rings.size() ? *owner : 0;
    if (!rings[worker]->push(in)) {
        c_.install_ring_full.add();
        return false;
    }
    c_.installs_queued.add();
    if (!in.image.is_template && resolve_hints_.size() + 2 <= max_resolve_hints) {
        resolve_hints_.push_back(in.image.reply.src);
        if (in.image.mode == ForwardMode::nat || in.image.mode == ForwardMode::fullnat)
            resolve_hints_.push_back(in.image.orig.src);
    }
    return true;
}

}  // namespace dplb
