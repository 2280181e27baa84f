// Session sync, backup side: a worker installs the sessions its receiver resolved
// (docs/ha.md, "The installer"). Off the packet path but on the worker's own thread, since
// only the owner touches its table, wheel, port pools and counters.
#include "dataplane/forward/forwarder.hpp"
#include "dataplane/session/template_key.hpp"

namespace dplb::fwd {

namespace {

Tick synced_deadline(const SessionImage& im, const ServiceSnap& svc, const Snapshot& snap, Tick now) {
    Tick t = im.timeout_ms;
    if (!t) t = im.is_template ? svc.persist_timeout_ms : snap.timeout(svc.id, im.state);  // 0: the state's default
    return now + t + sync_expiry_grace_ms;
}

// The same connection: same kind, server and reply tuple (FULLNAT: the same local port).
bool same_session(const Session& s, const SyncInstall& in) {
    if (s.is_template() != in.image.is_template || s.real_id != in.real_id) return false;
    return s.is_template() || (s.reply == in.image.reply && s.mode() == in.image.mode);
}

}  // namespace

void Forwarder::count(InstallOutcome o) {
    switch (o) {
    case InstallOutcome::installed: return counters_.sync_installed.add();
    case InstallOutcome::updated: return counters_.sync_updated.add();
    case InstallOutcome::replaced: return counters_.sync_replaced.add();
    case InstallOutcome::no_service: return counters_.sync_install_no_service.add();
    case InstallOutcome::no_local_address: return counters_.sync_install_no_local_address.add();
    case InstallOutcome::port_unavailable: return counters_.sync_install_port_unavailable.add();
    case InstallOutcome::conflict: return counters_.sync_install_conflict.add();
    case InstallOutcome::table_full: return counters_.sync_install_table_full.add();
    }
}

InstallOutcome Forwarder::install_synced(const SyncInstall& in, const Snapshot& snap, Tick now) {
    clock_ = now;
    const SessionImage& im = in.image;
    const ServiceSnap* svc = in.service_id < snap.service_by_id.size() ? snap.service_by_id[in.service_id] : nullptr;
    if (!svc) {
        count(InstallOutcome::no_service);
        return InstallOutcome::no_service;
    }
    const Tick expires = synced_deadline(im, *svc, snap, now);
    const uint32_t h = flow_hash(im.orig);
    bool replaced = false;
    if (SessionTable::Hit hit = table_.find(im.orig, h); hit.session) {
        Session& s = *hit.session;
        if (hit.reply) {  // the client's tuple is another session's reply tuple
            count(InstallOutcome::conflict);
            return InstallOutcome::conflict;
        }
        if (s.is_template() && im.is_template) {  // template keys never match a connection's
            // Rebound to another server on the master (choose_real): rebind in place, as
            // choose_real does. Ending it would orphan the connections it controls (their
            // `control` index would point at whatever reuses the slot).
            const bool rebound = s.real_id != in.real_id;
            if (rebound) {
                reals_[s.real_id].persistent.sub();
                reals_[in.real_id].persistent.add();
                s.real_id = in.real_id;
                s.service_id = svc->id;
            }
            s.expires = expires;
            wheel_.reschedule(&s);
            const InstallOutcome o = rebound ? InstallOutcome::replaced : InstallOutcome::updated;
            count(o);
            return o;
        }
        if (same_session(s, in)) {
            if (!s.is_template()) {
                const bool active = im.state == SessionState::tcp_established;
                if (active != bool(s.flags & session_active)) {
                    RealCounters& rc = reals_[s.real_id];
                    (active ? rc.active : rc.inactive).add();
                    (active ? rc.inactive : rc.active).sub();
                    s.flags = uint8_t(active ? s.flags | session_active : s.flags & ~session_active);
                }
                s.state = im.state;
            }
            s.expires = expires;
            wheel_.reschedule(&s);  // earlier or later: the master's word
            count(InstallOutcome::updated);
            return InstallOutcome::updated;
        }
        wheel_.remove(&s);  // the tuple was reused for another connection on the master
        end_session(s);
        replaced = true;
    }
    InstallOutcome o = install_new(in, *svc, expires);
    if (replaced && o == InstallOutcome::installed) o = InstallOutcome::replaced;
    count(o);
    return o;
}

InstallOutcome Forwarder::install_new(const SyncInstall& in, const ServiceSnap& svc, Tick expires) {
    const SessionImage& im = in.image;
    const uint32_t h = flow_hash(im.orig);
    if (im.is_template) {
        Session* t = table_.insert(im.orig, h, nullptr, 0);
        if (!t) return InstallOutcome::table_full;
        // A synced copy (Session::is_synced_copy): its end and refreshes are the master's to
        // send; sending them back would bounce between two nodes that both run a master daemon.
        t->flags |= session_template | session_syn_timeout_counted;
        t->state = SessionState::tcp_none;
        t->control = 0;
        t->real_id = in.real_id;
        t->service_id = svc.id;
        t->expires = expires;
        t->created = clock_;
        reals_[in.real_id].persistent.add();
        wheel_.add(t);
        return InstallOutcome::installed;
    }

    // FULLNAT: the very local address and port the master chose, from this worker's pool.
    uint16_t laddr_id = no_laddr;
    LocalPortPool* pool = nullptr;
    const uint16_t lport = __builtin_bswap16(im.lport);
    if (im.mode == ForwardMode::fullnat) {
        for (uint16_t id : svc.laddr_ids)
            if (LocalAddress* la = laddrs_.entry(id); la && la->address() == im.laddr) {
                laddr_id = id;
                pool = &la->pool(params_.worker);
            }
        if (!pool) return InstallOutcome::no_local_address;
        if (!pool->take(lport)) return InstallOutcome::port_unavailable;
    }
    const bool sees_replies = im.flags & session_reply_indexed;
    const uint32_t rh = flow_hash(im.reply);
    if (sees_replies && table_.find(im.reply, rh).session) {
        if (pool) pool->release(lport);
        return InstallOutcome::conflict;
    }
    Session* s = table_.insert(im.orig, h, sees_replies ? &im.reply : nullptr, rh);
    if (!s) {
        if (pool) pool->release(lport);
        return InstallOutcome::table_full;
    }
    s->reply = im.reply;
    // A synced copy (Session::is_synced_copy): the backup never saw the handshake, so no
    // passive-check verdict either.
    s->flags = uint8_t(im.flags | session_syn_timeout_counted);
    s->state = im.state;
    s->real_id = in.real_id;
    s->service_id = svc.id;
    s->laddr_id = laddr_id;
    s->created = clock_;
    s->expires = expires;
    if (svc.persistent) {  // linked to its template, which the master sent first
        const FlowKey tk = template_flow_key(im.orig.src & svc.persist_mask, svc.vip, svc.vport, svc.fwmark);
        if (Session* t = table_.find(tk, flow_hash(tk)).session; t && t->is_template()) {
            s->control = table_.index_of(t);
            ++t->control;
        }
    }
    RealCounters& rc = reals_[in.real_id];
    (s->flags & session_active ? rc.active : rc.inactive).add();
    rc.live.add();
    services_[svc.id].live.add();
    counters_.sessions_created.add();  // ended like any session: sessions_expired
    wheel_.add(s);
    return InstallOutcome::installed;
}

}  // namespace dplb::fwd
