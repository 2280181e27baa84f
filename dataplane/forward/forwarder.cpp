#include "dataplane/forward/forwarder.hpp"

#include "dataplane/forward/local_reply.hpp"
#include "dataplane/forward/rewrite.hpp"

namespace dplb::fwd {

namespace {

uint16_t bswap16(uint16_t v) { return __builtin_bswap16(v); }

// A SYN that finds its tuple in TIME_WAIT or CLOSE starts a new connection: schedule it
// afresh rather than resurrecting the old one (IPVS conn_reuse_mode). Without this a
// quiesced server would keep receiving new connections from clients that reuse ports.
bool starts_new_connection(const Session& s, uint8_t tcp_flags) {
    return (tcp_flags & (pkt::tcp_syn | pkt::tcp_rst)) == pkt::tcp_syn &&
           (s.state == SessionState::tcp_time_wait || s.state == SessionState::tcp_close);
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

Verdict Forwarder::handle_ipv4(pkt::ParsedIpv4& p, uint16_t in_port, const Snapshot& snap, Tick now) {
    if (!p.has_ports()) {
        const LocalAddressInfo* la = snap.find_local(p.daddr);
        if (!la) return Verdict::drop(DropReason::not_for_us);
        if (p.proto != pkt::proto_icmp) return Verdict::drop(DropReason::not_for_us);
        auto* icmp = pkt::at<pkt::IcmpHdr>(p.l4(), 0);
        if (icmp->type != pkt::icmp_echo_request || icmp->code != 0 || in_port >= snap.ports.size())
            return Verdict::drop(DropReason::icmp_unsupported);
        make_icmp_echo_reply(p, snap.ports[in_port].mac);
        counters_.icmp_echo_replies.add();
        return Verdict::reply();
    }

    FlowKey key(p.saddr, p.daddr, p.sport, p.dport, p.proto);
    uint32_t hash = flow_hash(key);
    SessionTable::Hit hit = table_.find(key, hash);
    if (hit.session) {
        if (hit.reply || !(p.proto == pkt::proto_tcp && starts_new_connection(*hit.session, p.tcp_flags)))
            return forward_existing(p, *hit.session, hit.reply, snap, now);
        wheel_.remove(hit.session);
        end_session(*hit.session);
    }

    const ServiceSnap* svc = snap.find_service(p.proto, p.daddr, p.dport);
    if (!svc) {
        const LocalAddressInfo* la = snap.find_local(p.daddr);
        return Verdict::drop(la && (la->kinds & local_vip) ? DropReason::no_service : DropReason::not_for_us);
    }
    // IPVS schedules TCP only on a SYN without RST.
    if (p.proto == pkt::proto_tcp && (p.tcp_flags & (pkt::tcp_syn | pkt::tcp_rst)) != pkt::tcp_syn)
        return Verdict::drop(DropReason::tcp_no_session);
    return create_session(p, key, hash, *svc, snap, now);
}

Verdict Forwarder::create_session(pkt::ParsedIpv4& p, const FlowKey& key, uint32_t hash, const ServiceSnap& svc,
                                  const Snapshot& snap, Tick now) {
    // A packet that cannot be forwarded must not create a connection (nor move the
    // scheduler, nor take a local port): rewrite_tuple would refuse it after all that.
    if (p.ip()->ttl <= 1) return Verdict::drop(DropReason::ip_ttl_exceeded);
    SchedState& st = sched_[svc.id];
    ScheduleInput in{p.saddr, p.daddr, p.sport, p.dport};
    SchedContext ctx(svc, st, in, params_.worker, *load_, overload_);
    int chosen = schedule(ctx);
    if (chosen < 0) return Verdict::drop(DropReason::no_real_server);
    const RealSnap& real = svc.reals[size_t(chosen)];

    FlowKey reply;
    uint16_t laddr_id = no_laddr;
    uint16_t lport = 0;
    switch (real.mode) {
    case ForwardMode::nat:
        reply = FlowKey(real.addr, p.saddr, real.port, p.sport, p.proto);
        break;
    case ForwardMode::fullnat: {
        size_t n = svc.laddr_ids.size();
        if (n == 0) return Verdict::drop(DropReason::snat_no_local_address);
        for (size_t k = 0; k < n && !lport; ++k) {
            size_t i = (st.laddr_cursor + k) % n;
            LocalAddress* la = laddrs_.entry(svc.laddr_ids[i]);
            if (!la) continue;
            lport = la->pool(params_.worker).acquire();
            if (lport) {
                laddr_id = svc.laddr_ids[i];
                st.laddr_cursor = uint32_t(i + 1);
                reply = FlowKey(real.addr, la->address(), real.port, bswap16(lport), p.proto);
            }
        }
        if (!lport) return Verdict::drop(DropReason::snat_ports_exhausted);
        break;
    }
    default:
        return Verdict::drop(DropReason::no_real_server);  // DR/TUN are not admitted by validation yet
    }

    auto give_port_back = [&] {
        if (lport) laddrs_.entry(laddr_id)->pool(params_.worker).release(lport);
    };
    uint32_t reply_hash = flow_hash(reply);
    if (table_.find(reply, reply_hash).session) {
        give_port_back();
        return Verdict::drop(DropReason::session_conflict);
    }
    Session* s = table_.insert(key, hash, &reply, reply_hash);
    if (!s) {
        give_port_back();
        return Verdict::drop(DropReason::session_table_full);
    }
    s->real_id = real.id;
    s->service_id = svc.id;
    s->laddr_id = laddr_id;
    s->set_mode(real.mode);
    s->state = p.proto == pkt::proto_tcp ? SessionState::tcp_none : SessionState::udp;
    s->expires = now;

    // New connections start inactive, as in IPVS; the state machine moves them.
    RealCounters& rc = reals_[real.id];
    rc.conns.add();
    rc.inactive.add();
    ServiceCounters& sc = services_[svc.id];
    sc.conns.add();
    sc.live.add();
    counters_.sessions_created.add();
    // expires == now, so forward_existing only moves it later and the wheel is untouched;
    // file the session once its real deadline is known.
    Verdict v = forward_existing(p, *s, false, snap, now);
    wheel_.add(s);
    return v;
}

void Forwarder::track_state(Session& s, FlowDirection dir, uint8_t tcp_flags, const Snapshot& snap, Tick now) {
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
        }
    }
    Tick old = s.expires;
    s.expires = now + snap.timeout_ms[unsigned(s.state)];
    if (tick_after(old, s.expires)) wheel_.reschedule(&s);  // a shorter timeout must not wait
}

Verdict Forwarder::forward_existing(pkt::ParsedIpv4& p, Session& s, bool reply_dir, const Snapshot& snap, Tick now) {
    // Leave with the other direction's key reversed: that is the whole NAT/FULLNAT rewrite.
    const FlowKey& other = reply_dir ? s.orig : s.reply;
    Tuple to{other.dst, other.src, other.dport, other.sport};
    uint16_t bytes = p.ip_len;
    if (!rewrite_tuple(p, to)) return Verdict::drop(DropReason::ip_ttl_exceeded);
    track_state(s, reply_dir ? FlowDirection::reply : FlowDirection::orig, p.tcp_flags, snap, now);

    RealCounters& rc = reals_[s.real_id];
    ServiceCounters& sc = services_[s.service_id];
    if (reply_dir) {
        rc.out_packets.add();
        rc.out_bytes.add(bytes);
        sc.out_packets.add();
        sc.out_bytes.add(bytes);
    } else {
        rc.in_packets.add();
        rc.in_bytes.add(bytes);
        sc.in_packets.add();
        sc.in_bytes.add(bytes);
    }
    return Verdict::forward_to(to.daddr);
}

void Forwarder::end_session(Session& s) {
    RealCounters& rc = reals_[s.real_id];
    if (s.flags & session_active)
        rc.active.sub();
    else
        rc.inactive.sub();
    services_[s.service_id].live.sub();
    if (s.laddr_id != no_laddr) {
        if (LocalAddress* la = laddrs_.entry(s.laddr_id)) la->pool(params_.worker).release(bswap16(s.reply.dport));
    }
    table_.erase(&s);
    counters_.sessions_expired.add();
}

unsigned Forwarder::expire(Tick now, unsigned budget) {
    return wheel_.expire(now, budget, [this](Session* s) { end_session(*s); });
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
    if (!la || in_port >= snap.ports.size() || !(la->arp_ports & (1u << in_port)))
        return Verdict::drop(DropReason::arp_not_for_us);
    make_arp_reply(frame, snap.ports[in_port].mac);
    counters_.arp_replies.add();
    return Verdict::reply();
}

}  // namespace dplb::fwd
