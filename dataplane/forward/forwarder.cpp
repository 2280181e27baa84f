#include "dataplane/forward/forwarder.hpp"

#include "dataplane/flow/owner.hpp"
#include "dataplane/forward/local_reply.hpp"
#include "dataplane/forward/rewrite.hpp"
#include "dataplane/forward/tcp_reset.hpp"
#include "dataplane/session/template_key.hpp"

namespace dplb::fwd {

namespace {

uint16_t bswap16(uint16_t v) { return __builtin_bswap16(v); }

// Schedulers that send a client to the same server whatever happened before (hashes of the
// packet, not of the load or of a turn): a mid-flow pickup (sloppy_tcp) can only land on the
// server that has the connection with them.
bool consistent_scheduler(config::Scheduler s) {
    return s == config::Scheduler::mh || s == config::Scheduler::sh || s == config::Scheduler::dh;
}

// A SYN that finds its tuple in TIME_WAIT or CLOSE starts a new connection: schedule it
// afresh rather than resurrecting the old one (IPVS conn_reuse_mode). Without this a
// quiesced server would keep receiving new connections from clients that reuse ports.
bool starts_new_connection(const Session& s, uint8_t tcp_flags) {
    return (tcp_flags & (pkt::tcp_syn | pkt::tcp_rst)) == pkt::tcp_syn &&
           (s.state == SessionState::tcp_time_wait || s.state == SessionState::tcp_close);
}

// The persistence template of a client for a service (session/template_key.hpp).
FlowKey template_key(const ServiceSnap& svc, uint32_t client) {
    return template_flow_key(client & svc.persist_mask, svc.vip, svc.vport, svc.fwmark);
}

}  // namespace

Forwarder::Forwarder(const ForwarderParams& params, LocalAddressRegistry& laddrs, Tick now)
    : params_(params),
      laddrs_(laddrs),
      table_(params.session_capacity),
      wheel_(table_, now),
      reals_(params.max_reals),
      services_(params.max_services),
      own_load_(params.load ? nullptr : std::make_unique<LoadBoard>(1)),
      load_(params.load ? params.load : own_load_.get()),
      overload_(params.max_reals),
      sched_(new SchedState[params.max_services]) {
    load_->attach(params.load ? params.worker : 0, &reals_);
}

Verdict Forwarder::handle_ipv4(pkt::ParsedIpv4& p, uint16_t in_port, const Snapshot& snap, Tick now,
                               uint32_t hash) {
    clock_ = now;
    if (!p.has_ports()) {
        if (p.icmp_error) return handle_icmp_error(p, snap);
        const LocalAddressInfo* la = snap.find_local(p.daddr);
        if (!la) return Verdict::drop(DropReason::not_for_us);
        if (not_owned(*la, p.daddr)) return Verdict::drop(DropReason::vip_not_owned);
        if (p.proto != pkt::proto_icmp) return Verdict::drop(DropReason::not_for_us);
        auto* icmp = pkt::at<pkt::IcmpHdr>(p.l4(), 0);
        if (icmp->type != pkt::icmp_echo_request || icmp->code != 0 || in_port >= snap.ports.size())
            return Verdict::drop(DropReason::icmp_unsupported);
        make_icmp_echo_reply(p, snap.ports[in_port].mac);
        counters_.icmp_echo_replies.add();
        return Verdict::reply();
    }

    FlowKey key(p.saddr, p.daddr, p.sport, p.dport, p.proto);
    SessionTable::Hit hit = table_.find(key, hash);
    if (hit.session) {
        Session& s = *hit.session;
        const bool tcp = p.proto == pkt::proto_tcp;
        const bool client_syn = tcp && !hit.reply && (p.tcp_flags & (pkt::tcp_syn | pkt::tcp_rst)) == pkt::tcp_syn;
        if (tcp && !(s.flags & session_input_only)) observe_tcp(s, hit.reply, p.tcp_flags, now);
        // Whether the packet ends its session and, from the client, is scheduled anew
        // (docs/architecture.md, "Real servers that leave").
        bool reschedule = false;
        if (snap.flags_of(s.service_id) & service_flag_expire_nodest) [[unlikely]] {
            const RealPresence where = snap.presence(s.service_id, s.real_id);
            if (where == RealPresence::gone) {
                counters_.sessions_expired_nodest.add();
                if (tcp && !client_syn) return reset_gone_session(p, s, hit.reply, snap);
                if (hit.reply) {  // UDP from the server: nothing to schedule it to
                    wheel_.remove(&s);
                    end_session(s);
                    return Verdict::drop(DropReason::real_server_gone);
                }
                reschedule = true;  // a client SYN, or a client's UDP packet
            } else {
                // IPVS (conn_reuse with expire_nodest_conn): a SYN to a server at weight 0
                // is a new connection, scheduled elsewhere.
                reschedule = client_syn && where == RealPresence::zero_weight;
            }
        }
        // Without the flag too: a client retrying its SYN to a server that has left, before any
        // connection exists, is a new connection rather than more SYNs to a server that is gone.
        if (!reschedule && client_syn && s.in_syn_state())
            reschedule = snap.presence(s.service_id, s.real_id) == RealPresence::gone;
        if (reschedule)
            counters_.sessions_rescheduled.add();
        else if (!client_syn || !starts_new_connection(s, p.tcp_flags))
            return forward_existing(p, s, hit.reply, snap, now);
        wheel_.remove(&s);
        end_session(s);
    }

    // owner_of() may have looked the service up already, in this very snapshot.
    const ServiceSnap* svc = p.service_seq != 0 && p.service_seq == snap.sequence
                                 ? p.service
                                 : snap.find_service(p.proto, p.daddr, p.dport);
    if (!svc) {
        const LocalAddressInfo* la = snap.find_local(p.daddr);
        return Verdict::drop(la && (la->kinds & local_vip) ? DropReason::no_service : DropReason::not_for_us);
    }
    // Only the node that holds the VIP takes new connections (docs/ha.md); the address is
    // the packet's, so port groups and port-0 services are covered too.
    if (owned_ && !owned_->owns(p.daddr)) return Verdict::drop(DropReason::vip_not_owned);
    // IPVS schedules TCP only on a SYN without RST; with sloppy_tcp, also on a segment other
    // than a reset when the scheduler would pick the same server again (a consistent one).
    bool pickup = false;
    if (p.proto == pkt::proto_tcp && (p.tcp_flags & (pkt::tcp_syn | pkt::tcp_rst)) != pkt::tcp_syn) {
        if (!params_.sloppy_tcp || (p.tcp_flags & pkt::tcp_rst) || !consistent_scheduler(svc->scheduler))
            return Verdict::drop(DropReason::tcp_no_session);
        pickup = true;
    }
    // A packet that cannot be forwarded must not take a connection slot, a local port or a
    // turn of the scheduler.
    if (p.ip()->ttl <= 1) return Verdict::drop(DropReason::ip_ttl_exceeded);
    Verdict v = create_session(p, key, hash, *svc, snap, now, pickup);
    if (pickup && v.action != Verdict::Action::drop) counters_.sloppy_tcp_created.add();
    return v;
}

int Forwarder::choose_real(const pkt::ParsedIpv4& p, const ServiceSnap& svc, Tick now, Session** tpl) {
    *tpl = nullptr;
    SchedState& st = sched_[svc.id];
    ScheduleInput in{p.saddr, p.daddr, p.sport, p.dport};
    SchedContext ctx(svc, st, in, params_.worker, *load_, overload_);
    if (!svc.persistent) return schedule(ctx);

    // Persistence (IPVS ip_vs_sched_persist): the client's template names the server while
    // it lives; each new connection refreshes it.
    FlowKey tk = template_key(svc, p.saddr);
    uint32_t th = flow_hash(tk);
    Session* t = table_.find(tk, th).session;
    int chosen = t ? index_of_real(svc, t->real_id) : -1;
    if (chosen < 0) {  // no template, or its server left the service: schedule and (re)bind
        chosen = schedule(ctx);
        if (chosen < 0) return -1;
        const RealSnap& real = svc.reals[size_t(chosen)];
        if (t) {
            reals_[t->real_id].persistent.sub();
        } else {
            t = table_.insert(tk, th, nullptr, 0);
            if (!t) return -2;
            t->flags |= session_template;
            t->state = SessionState::tcp_none;
            t->control = 0;
            t->expires = now;
            wheel_.add(t);
        }
        t->real_id = real.id;
        t->service_id = svc.id;
        reals_[real.id].persistent.add();
        t->expires = now + svc.persist_timeout_ms;
        sync_event(*t, SyncEventKind::created);  // new, or bound to another server
    } else {
        t->expires = now + svc.persist_timeout_ms;  // each new connection refreshes it
    }
    // A synced copy chosen here is this node's now (a failover): its end and refreshes are
    // this node's to send. Templates have no passive checks, so the flag has no other use.
    t->flags = uint8_t(t->flags & ~session_syn_timeout_counted);
    *tpl = t;
    return chosen;
}

Verdict Forwarder::create_session(pkt::ParsedIpv4& p, const FlowKey& key, uint32_t hash, const ServiceSnap& svc,
                                  const Snapshot& snap, Tick now, bool established) {
    Session* tpl = nullptr;
    int chosen = choose_real(p, svc, now, &tpl);
    if (chosen == -2) return Verdict::drop(DropReason::session_table_full);
    if (chosen < 0) return Verdict::drop(DropReason::no_real_server);
    const RealSnap& real = svc.reals[size_t(chosen)];
    const uint16_t rport = real.port ? real.port : p.dport;  // port 0: the port the client asked for

    FlowKey reply;
    uint16_t laddr_id = no_laddr;
    uint16_t lport = 0;
    switch (real.mode) {
    case ForwardMode::nat:
    case ForwardMode::dr:
    case ForwardMode::tunnel:  // DR/TUN: replies bypass us; the key only documents the server
        reply = FlowKey(real.addr, p.saddr, rport, p.sport, p.proto);
        break;
    case ForwardMode::fullnat: {
        SchedState& st = sched_[svc.id];
        size_t n = svc.laddr_ids.size();
        if (n == 0) return Verdict::drop(DropReason::snat_no_local_address);
        for (size_t k = 0; k < n && !lport; ++k) {
            size_t i = (st.laddr_cursor + k) % n;
            LocalAddress* la = laddrs_.entry(svc.laddr_ids[i]);
            if (!la) continue;
            lport = acquire_local_port(*la, real.addr, rport);
            if (lport) {
                laddr_id = svc.laddr_ids[i];
                st.laddr_cursor = uint32_t(i + 1);
                reply = FlowKey(real.addr, la->address(), rport, bswap16(lport), p.proto);
            }
        }
        if (!lport) return Verdict::drop(DropReason::snat_ports_exhausted);
        break;
    }
    }

    const bool sees_replies = real.mode == ForwardMode::nat || real.mode == ForwardMode::fullnat;
    auto give_port_back = [&] {
        if (lport) laddrs_.entry(laddr_id)->pool(params_.worker).release(lport);
    };
    uint32_t reply_hash = flow_hash(reply);
    if (sees_replies && table_.find(reply, reply_hash).session) {
        give_port_back();
        return Verdict::drop(DropReason::session_conflict);
    }
    Session* s = table_.insert(key, hash, sees_replies ? &reply : nullptr, reply_hash);
    if (!s) {
        give_port_back();
        return Verdict::drop(DropReason::session_table_full);
    }
    if (!sees_replies) {
        s->reply = reply;
        s->flags |= session_input_only;
    }
    s->real_id = real.id;
    s->service_id = svc.id;
    s->laddr_id = laddr_id;
    s->set_mode(real.mode);
    s->state = established ? SessionState::tcp_established
               : p.proto == pkt::proto_tcp ? SessionState::tcp_none
                                           : SessionState::udp;
    if (established) s->flags |= session_active;
    s->expires = now;
    s->created = now;
    if (tpl) {
        s->control = table_.index_of(tpl);
        ++tpl->control;
    }

    // New connections start inactive, as in IPVS; the state machine moves them.
    RealCounters& rc = reals_[real.id];
    rc.conns.add();
    (established ? rc.active : rc.inactive).add();
    rc.live.add();
    ServiceCounters& sc = services_[svc.id];
    sc.conns.add();
    sc.live.add();
    counters_.sessions_created.add();
    if (params_.nworkers > 1)
        if (service_owner(svc, p.saddr, p.sport, snap.nworkers) != params_.worker)  // owner_of() for p
            counters_.sessions_created_not_owner.add();
    // expires == now, so forward_existing only moves it later and the wheel is untouched;
    // file the session once its real deadline is known.
    creating_ = true;
    Verdict v = forward_existing(p, *s, false, snap, now);
    creating_ = false;
    wheel_.add(s);
    sync_event(*s, SyncEventKind::created);
    return v;
}

void Forwarder::track_state(Session& s, FlowDirection dir, uint8_t tcp_flags, const Snapshot& snap, Tick now) {
    bool changed = false;
    if (s.state != SessionState::udp) {
        SessionState next = tcp_next_state(s.state, dir, s.flags & session_input_only, tcp_flags);
        if (next != s.state) {
            bool active = next == SessionState::tcp_established;
            if (active != bool(s.flags & session_active)) {
                RealCounters& rc = reals_[s.real_id];
                if (active) {
                    rc.active.add();
                    rc.inactive.sub();
                    s.flags |= session_active;
                } else {
                    rc.active.sub();
                    rc.inactive.add();
                    s.flags &= uint8_t(~session_active);
                }
            }
            s.state = next;
            changed = !creating_;
        }
    }
    Tick old = s.expires;
    s.expires = now + snap.timeout(s.service_id, s.state);
    if (tick_after(old, s.expires)) wheel_.reschedule(&s);  // a shorter timeout must not wait
    if (changed) sync_event(s, SyncEventKind::state_changed);  // with the new state's deadline
}

uint16_t Forwarder::acquire_local_port(LocalAddress& la, uint32_t rip, uint16_t rport_be) {
    LocalPortPool& pool = la.pool(params_.worker);
    const RssSteering* rss = params_.rss;
    if (!rss || params_.nworkers == 1) return pool.acquire();
    // The reply RIP:rport -> LIP:lport must hash to this worker's queue. Every port of the
    // pool is already this worker's by local_port_owner(); about one in nworkers also hashes
    // here, so a budget of 16 x nworkers candidates misses with probability ~e^-16.
    const uint32_t base = rss->hash(rip, la.address(), rport_be, 0);
    const uint16_t me = uint16_t(params_.worker);
    bool matched = false;
    uint16_t lport = pool.acquire_preferring(
        [&](uint16_t port) { return rss->queue(base ^ rss->dport_part(port)) == me; }, 16 * params_.nworkers, matched);
    if (lport) (matched ? counters_.lports_steered : counters_.lports_unsteered).add();
    return lport;
}

Verdict Forwarder::tunnel(pkt::ParsedIpv4& p, const Session& s, const Snapshot& snap) {
    const ServiceSnap* svc = s.service_id < snap.service_by_id.size() ? snap.service_by_id[s.service_id] : nullptr;
    const RealSnap* real = nullptr;
    if (svc) {
        if (int i = index_of_real(*svc, s.real_id); i >= 0) real = &svc->reals[size_t(i)];
        // A server the health check took out (or a sorry server replaced) keeps its tunnel.
        // Rare (its remaining connections only), so a scan.
        else
            for (const RealSnap& r : svc->standby)
                if (r.id == s.real_id) real = &r;
    }
    // A server removed from the configuration keeps its connections: the address is in the
    // session; the source falls back to the packet's VIP and the MTU to 1500.
    uint32_t source = real ? real->tunnel_source : p.daddr;
    uint16_t mtu = real ? real->tunnel_mtu : 1500;
    if (uint32_t(p.ip_len) + ipip_overhead > mtu) {
        // Never an ICMP error about an ICMP error (RFC 1122 3.2.2): those are only dropped.
        if (p.icmp_error || !(p.ip()->frag_be & pkt::ip_frag_df_be))
            return Verdict::drop(DropReason::tunnel_mtu_exceeded);
        make_frag_needed(p, p.daddr, uint16_t(mtu - ipip_overhead));
        counters_.icmp_frag_needed_sent.add();
        return Verdict::forward_to(p.daddr);
    }
    if (p.headroom < ipip_overhead) return Verdict::drop(DropReason::no_headroom);
    encapsulate_ipip(p, source, s.reply.src, bswap16(++ip_id_));
    return Verdict::forward_to(s.reply.src);
}

Verdict Forwarder::output(pkt::ParsedIpv4& p, const Session& s, bool reply_dir, const Snapshot& snap) {
    const ForwardMode mode = s.mode();
    // The client's packet goes to the server unchanged: DR only re-addresses the frame (the
    // worker writes the server's MAC), TUN wraps it in an outer header.
    if (mode == ForwardMode::dr) return Verdict::forward_to(s.reply.src);
    if (mode == ForwardMode::tunnel) return tunnel(p, s, snap);
    // Leave with the other direction's key reversed: that is the whole NAT/FULLNAT rewrite.
    const FlowKey& other = reply_dir ? s.orig : s.reply;
    Tuple to{other.dst, other.src, other.dport, other.sport};
    if (!rewrite_tuple(p, to)) return Verdict::drop(DropReason::ip_ttl_exceeded);
    return Verdict::forward_to(to.daddr);
}

Verdict Forwarder::forward_existing(pkt::ParsedIpv4& p, Session& s, bool reply_dir, const Snapshot& snap, Tick now) {
    uint16_t bytes = p.ip_len;
    Verdict v = output(p, s, reply_dir, snap);
    if (v.action == Verdict::Action::drop) return v;
    track_state(s, reply_dir ? FlowDirection::reply : FlowDirection::orig, p.tcp_flags, snap, now);

    RealCounters& rc = reals_[s.real_id];
    ServiceCounters& sc = services_[s.service_id];
    if (reply_dir) {
        s.flags |= session_server_answered;  // also ends a synced copy's status (UDP: observe_tcp is TCP's)
        rc.out_packets.add();
        rc.out_bytes.add(bytes);
        sc.out_packets.add();
        sc.out_bytes.add(bytes);
    } else {
        // DR/TUN: replies bypass this node, so a client packet forwarded here is the only sign
        // a synced copy is this node's now (a failover); without this it would stay a copy
        // and its end would never be sent. The passive checks are off for DR/TUN anyway.
        if ((s.flags & session_input_only) && s.is_synced_copy()) s.flags |= session_server_answered;
        rc.in_packets.add();
        rc.in_bytes.add(bytes);
        sc.in_packets.add();
        sc.in_bytes.add(bytes);
    }
    return v;
}

// expire_nodest_conn (docs/architecture.md, "Real servers that leave"): the session of a
// real server that left its service ends at this segment, and both ends get a reset they
// accept (RFC 5961 3.2: its sequence number is exactly what the receiver expects next).
//  - Toward the peer (the end the segment was going to): the segment itself becomes the
//    reset, with its own sequence number (the peer's RCV.NXT when it is the next in order)
//    and acknowledgment, and leaves through the session's rewrite as the segment would have.
//  - Toward the sender: a new reset from the address the sender talks to (the VIP for a
//    client; the local address and port, FULLNAT, or the client, NAT, for a server), with the
//    segment's acknowledgment as its sequence number (the sender's RCV.NXT) and the ACK
//    flag acknowledging the segment. Only for a segment with ACK (without one, what the
//    sender expects is unknown) that is not itself a reset.
Verdict Forwarder::reset_gone_session(pkt::ParsedIpv4& p, Session& s, bool reply_dir, const Snapshot& snap) {
    const Session ended = s;  // its keys and mode outlive it
    wheel_.remove(&s);
    end_session(s);  // frees its FULLNAT local port: nothing can take it before these leave
    const auto* tcp = pkt::at<pkt::TcpHdr>(p.l4(), 0);
    const uint32_t seq_be = tcp->seq, ack_be = tcp->ack;
    const bool has_ack = p.tcp_flags & pkt::tcp_ack;
    bool extra = false;
    if (has_ack && !(p.tcp_flags & pkt::tcp_rst)) {
        const FlowKey& sender = reply_dir ? ended.reply : ended.orig;  // as the sender sends
        const Tuple to{sender.dst, sender.src, sender.dport, sender.sport};
        const uint32_t next_be = __builtin_bswap32(__builtin_bswap32(seq_be) + tcp_segment_length(p));
        auto* eth = pkt::at<pkt::EthHdr>(extra_.frame, 0);
        *eth = pkt::EthHdr{};
        eth->type_be = pkt::ethertype_ipv4_be;
        write_tcp_reset(extra_.frame + pkt::l3_offset, to, ack_be, next_be, true, 0, bswap16(++ip_id_),
                        local_reply_ttl);
        extra_.len = uint16_t(pkt::l3_offset + tcp_reset_ip_len);
        extra_.route_to = to.daddr;
        counters_.nodest_resets.add();
        extra = true;
    }
    make_tcp_reset_in_place(p, seq_be, ack_be, has_ack);
    Verdict v = output(p, ended, reply_dir, snap);
    if (v.action == Verdict::Action::forward) counters_.nodest_resets.add();
    v.extra = extra;
    return v;
}

// Passive checks (what DPVS's --dest-check observes), on the sessions that see the server's
// side: a SYN retransmission from the client passive_syn_timeout_ms after the first SYN with
// nothing heard from the server is a SYN timeout (once per session); a reset from the server
// before ESTABLISHED is counted as such.
void Forwarder::observe_tcp(Session& s, bool reply_dir, uint8_t tcp_flags, Tick now) {
    if (reply_dir) {
        if ((tcp_flags & pkt::tcp_rst) && s.in_syn_state()) reals_[s.real_id].resets_before_established.add();
        s.flags |= session_server_answered;
        return;
    }
    if ((tcp_flags & (pkt::tcp_syn | pkt::tcp_ack | pkt::tcp_rst)) == pkt::tcp_syn && s.in_syn_state() &&
        !(s.flags & (session_server_answered | session_syn_timeout_counted)) &&
        tick_reached(now, s.created + passive_syn_timeout_ms)) {
        reals_[s.real_id].syn_timeouts.add();
        s.flags |= session_syn_timeout_counted;
    }
}

// An ICMP error about a packet of a session goes to the other side, looking as if it were
// about the packet that side sent (IPVS ip_vs_in_icmp / ip_vs_out_icmp).
Verdict Forwarder::handle_icmp_error(pkt::ParsedIpv4& p, const Snapshot& snap) {
    // The quoted packet is one we sent; reversed, it is the key of the direction it answers.
    FlowKey key(p.inner_daddr, p.inner_saddr, p.inner_dport, p.inner_sport, p.inner_proto);
    SessionTable::Hit hit = table_.find(key, flow_hash(key));
    if (!hit.session || hit.session->is_template()) return Verdict::drop(DropReason::icmp_no_session);
    const Session& s = *hit.session;
    if (s.mode() == ForwardMode::dr || s.mode() == ForwardMode::tunnel) {
        // Only errors from the client's side reach us, about a packet the real server sent
        // from the VIP itself: it goes to the server as it is, the way the session's own
        // packets go (IPVS ip_vs_icmp_xmit for non-NAT connections). Rewriting the quote to
        // RIP -> client would name a socket the server does not have, losing PMTU discovery.
        Verdict v = s.mode() == ForwardMode::dr ? Verdict::forward_to(s.reply.src) : tunnel(p, s, snap);
        if (v.action == Verdict::Action::forward) counters_.icmp_errors_forwarded.add();
        return v;
    }
    Tuple outer, quoted;
    if (hit.reply) {
        // We sent it toward the real server: tell the client, about its own packet.
        outer = {s.orig.dst, s.orig.src, 0, 0};
        quoted = {s.orig.src, s.orig.dst, s.orig.sport, s.orig.dport};
    } else {
        // We sent it toward the client: tell the real server, about its own packet.
        outer = {s.reply.dst, s.reply.src, 0, 0};
        quoted = {s.reply.src, s.reply.dst, s.reply.sport, s.reply.dport};
    }
    if (!rewrite_icmp_error(p, outer, quoted)) return Verdict::drop(DropReason::ip_ttl_exceeded);
    counters_.icmp_errors_forwarded.add();
    return Verdict::forward_to(outer.daddr);
}

void Forwarder::end_session(Session& s) {
    if (!s.is_synced_copy()) sync_event(s, SyncEventKind::ended);  // a copy's end is its master's to send
    if (s.is_template()) {
        reals_[s.real_id].persistent.sub();
    } else {
        RealCounters& rc = reals_[s.real_id];
        if (s.flags & session_active)
            rc.active.sub();
        else
            rc.inactive.sub();
        rc.live.sub();
        services_[s.service_id].live.sub();
        if (s.laddr_id != no_laddr) {
            if (LocalAddress* la = laddrs_.entry(s.laddr_id)) la->pool(params_.worker).release(bswap16(s.reply.dport));
        }
        if (s.control != no_index) --table_.at(s.control)->control;
        counters_.sessions_expired.add();
    }
    table_.erase(&s);
}

unsigned Forwarder::expire(Tick now, unsigned budget, const Snapshot* snap) {
    clock_ = now;
    auto on_expired = [this, now, snap](Session* s) {
        if (s->is_template() && s->control != 0) {
            // A template outlives the connections it controls (IPVS n_control).
            const ServiceSnap* svc =
                snap && s->service_id < snap->service_by_id.size() ? snap->service_by_id[s->service_id] : nullptr;
            s->expires = now + (svc && svc->persistent ? svc->persist_timeout_ms : Tick(60000));
            wheel_.add(s);
            if (!s->is_synced_copy()) sync_event(*s, SyncEventKind::refreshed);  // a copy's master refreshes it
            return;
        }
        if (s->in_syn_state() &&
            !(s->flags & (session_input_only | session_server_answered | session_syn_timeout_counted)))
            reals_[s->real_id].syn_timeouts.add();  // the handshake never got an answer
        end_session(*s);
    };
    // A session re-filed because traffic moved its deadline: the refresh rule (sync_tap.hpp).
    return wheel_.expire(now, budget, on_expired, [this](Session* s) { sync_event(*s, SyncEventKind::refreshed); });
}

Verdict Forwarder::handle_arp(uint8_t* frame, uint32_t len, uint16_t in_port, const Snapshot& snap) {
    if (len < sizeof(pkt::EthHdr) + sizeof(pkt::ArpHdr)) return Verdict::drop(DropReason::arp_malformed);
    const auto* arp = pkt::at<pkt::ArpHdr>(frame, sizeof(pkt::EthHdr));
    if (arp->htype_be != pkt::arp_htype_ether_be || arp->ptype_be != pkt::ethertype_ipv4_be || arp->hlen != 6 ||
        arp->plen != 4)
        return Verdict::drop(DropReason::arp_malformed);
    if (arp->op_be != pkt::arp_op_request_be && arp->op_be != pkt::arp_op_reply_be)
        return Verdict::drop(DropReason::arp_malformed);
    // Replies and announcements (gratuitous: sender == target) feed the neighbour table.
    if (arp->op_be == pkt::arp_op_reply_be || arp->spa == arp->tpa) return Verdict::to_main();
    const LocalAddressInfo* la = snap.find_local(arp->tpa);
    if (!la || in_port >= snap.ports.size() || in_port >= 32 || !(la->arp_ports & (1u << in_port)))
        return Verdict::drop(DropReason::arp_not_for_us);
    // The other node (or nobody) holds it: answering would pull its traffic here.
    if (not_owned(*la, arp->tpa)) return Verdict::drop(DropReason::arp_not_owned);
    make_arp_reply(frame, snap.ports[in_port].mac);
    counters_.arp_replies.add();
    return Verdict::reply();
}

}  // namespace dplb::fwd
