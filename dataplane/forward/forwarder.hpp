// One worker's load-balancing engine: sessions, scheduling, SNAT ports, rewrites, and the
// answers the dataplane gives itself (ARP, ICMP echo). It sees bytes and a snapshot, never
// an mbuf or a port, so it runs in unit tests and benchmarks without EAL; routing,
// neighbour resolution and transmission are the worker loop's job.
//
// Threading: one Forwarder per worker, used only by that worker's thread. Its counters are
// read by the control thread (see stats/counter.hpp). `laddrs` is shared: see
// LocalAddressRegistry for the contract.
#pragma once

#include <algorithm>
#include <cstdint>

#include "dataplane/config/owned_addresses.hpp"
#include "dataplane/config/snapshot.hpp"
#include "dataplane/flow/rss_steering.hpp"
#include "dataplane/forward/verdict.hpp"
#include "dataplane/packet/parse.hpp"
#include "dataplane/sched/scheduler.hpp"
#include "dataplane/session/expiry_wheel.hpp"
#include "dataplane/session/session_table.hpp"
#include "dataplane/session/tcp_state.hpp"
#include "dataplane/snat/local_address_registry.hpp"
#include "dataplane/stats/worker_counters.hpp"
#include "dataplane/sync/sync_install.hpp"
#include "dataplane/sync/sync_tap.hpp"

namespace dplb::fwd {

// Passive checks: a client's SYN retransmission counts as a SYN timeout of the real server
// from this long after the connection's first SYN, if the server has sent nothing. Clients
// retransmit a SYN after their initial RTO, 1 s (RFC 6298; Linux's TCP_TIMEOUT_INIT), then 3 s,
// 7 s...; the 100 ms margin keeps the first retransmission from being missed through delay
// jitter and the worker reading its clock once per burst. A duplicate sooner than this is not
// a timeout.
inline constexpr Tick passive_syn_timeout_ms = 900;

// A packet the forwarder built besides the one it was handed (the second TCP reset of
// expire_nodest_conn), announced by Verdict::extra: the caller copies it into a buffer of
// its own and forwards it to `route_to` like any forwarded packet (route, Ethernet header,
// transmit). Valid until the next handle_ipv4().
struct ExtraPacket {
    static constexpr unsigned capacity = 64;
    alignas(8) uint8_t frame[capacity] = {};  // from the Ethernet header; its addresses are the caller's
    uint16_t len = 0;
    uint32_t route_to = 0;  // network order
};

struct ForwarderParams {
    unsigned worker = 0;
    unsigned nworkers = 1;
    uint32_t session_capacity = 1u << 20;
    uint32_t max_services = 1u << 14;  // service ids are < this
    uint32_t max_reals = 1u << 17;     // real-server ids are < this
    // Connection counts of every worker, for dynamic schedulers and thresholds; null = a
    // board of this forwarder alone (unit tests, one worker).
    LoadBoard* load = nullptr;
    // The RSS every port was programmed with, when it could be (null: none could, or one
    // worker): FULLNAT local ports are then chosen so that replies reach this worker's queue.
    const RssSteering* rss = nullptr;
    // Session sync, master side: where this worker reports session events (null: never).
    SyncTap* sync = nullptr;
    // IPVS's sloppy_tcp (docs/ha.md, "Mid-flow pickup"): a TCP segment other than a SYN or a
    // reset that finds no session creates one, as ESTABLISHED, for a service whose scheduler
    // is consistent (mh, sh, dh), instead of being dropped.
    bool sloppy_tcp = false;
};

class Forwarder {
public:
    Forwarder(const ForwarderParams& params, LocalAddressRegistry& laddrs, Tick now);

    // Burst pipelining: for every packet of a burst take its lookup_hash() and
    // prefetch_bucket(), then prefetch_session() for every one, then handle_ipv4() with the
    // same hash: each packet's session-table lines are fetched while the others are worked on.
    // The prefetches are hints; skipping them changes nothing but speed.
    static uint32_t lookup_hash(const pkt::ParsedIpv4& p) {
        return p.has_ports() ? flow_hash(FlowKey(p.saddr, p.daddr, p.sport, p.dport, p.proto)) : 0;
    }
    void prefetch_bucket(uint32_t hash) const { table_.prefetch(hash); }
    void prefetch_session(uint32_t hash) const { table_.prefetch_sessions(hash); }
    // An IPv4 packet this worker owns (flow/owner.hpp) or that any worker may handle;
    // `hash` is lookup_hash(p).
    Verdict handle_ipv4(pkt::ParsedIpv4& p, uint16_t in_port, const Snapshot& snap, Tick now, uint32_t hash);
    Verdict handle_ipv4(pkt::ParsedIpv4& p, uint16_t in_port, const Snapshot& snap, Tick now) {
        return handle_ipv4(p, in_port, snap, now, lookup_hash(p));
    }
    // What this node serves now (docs/ha.md, "VIP ownership follows the kernel"), for the
    // calls that follow: null = everything (`vip_ownership: always`). A VIP that is not
    // owned creates no session and, like a local address that is not owned, gets no ARP or
    // echo reply; sessions that exist keep forwarding. The worker sets it once per loop
    // iteration from its QSBR-protected load; it must stay valid until the next call.
    void set_owned(const OwnedAddresses* owned) { owned_ = owned; }
    // The second packet of the last handle_ipv4() whose verdict had `extra` set.
    const ExtraPacket& extra() const { return extra_; }
    // An ARP frame (`len` bytes from the Ethernet header).
    Verdict handle_arp(uint8_t* frame, uint32_t len, uint16_t in_port, const Snapshot& snap);
    // Expires at most `budget` due sessions; returns how many were handled. A persistence
    // template that still controls connections is kept alive for its service's timeout. A
    // NAT/FULLNAT TCP session expiring in a SYN state without a word from its server counts as
    // a SYN timeout of that server.
    unsigned expire(Tick now, unsigned budget, const Snapshot* snap = nullptr);

    // Visits the live sessions and templates among the next `budget` table slots from
    // `cursor` (advanced); returns false once the whole table has been walked. Bounding slots,
    // not sessions, bounds the time of a call on a large, sparse table. For `dplbadm -L -c`.
    template <class F>
    bool visit_sessions(uint32_t& cursor, unsigned budget, F&& f) const;

    // Session sync, backup side: installs (or updates) a session a master synced, as the
    // receiver resolved it (sync/sync_install.hpp). Counted in the worker counters sync_*.
    InstallOutcome install_synced(const SyncInstall& in, const Snapshot& snap, Tick now);

    unsigned worker() const { return params_.worker; }
    WorkerCounters& counters() { return counters_; }
    const WorkerCounters& counters() const { return counters_; }
    const CounterArray<RealCounters>& real_counters() const { return reals_; }
    const CounterArray<ServiceCounters>& service_counters() const { return services_; }
    const SessionTable& sessions() const { return table_; }

private:
    Verdict forward_existing(pkt::ParsedIpv4& p, Session& s, bool reply_dir, const Snapshot& snap, Tick now);
    // Sends `p` on toward the other side of session `s` (NAT/FULLNAT rewrite, DR frame, TUN
    // encapsulation): the output half of forward_existing, without state or counters.
    Verdict output(pkt::ParsedIpv4& p, const Session& s, bool reply_dir, const Snapshot& snap);
    // expire_nodest_conn for a TCP segment other than a client SYN: ends `s` and turns the
    // segment into resets for both ends.
    Verdict reset_gone_session(pkt::ParsedIpv4& p, Session& s, bool reply_dir, const Snapshot& snap);
    // Passive checks on a TCP packet of a NAT/FULLNAT session, before its state moves.
    void observe_tcp(Session& s, bool reply_dir, uint8_t tcp_flags, Tick now);
    // `established`: a sloppy_tcp pickup, which starts ESTABLISHED (and active) as in IPVS.
    Verdict create_session(pkt::ParsedIpv4& p, const FlowKey& key, uint32_t hash, const ServiceSnap& svc,
                           const Snapshot& snap, Tick now, bool established = false);
    // An address of kinds VIP or local address (not also an interface address) that this
    // node does not serve now.
    bool not_owned(const LocalAddressInfo& la, uint32_t addr) const {
        return owned_ && (la.kinds & (local_vip | local_snat)) && !(la.kinds & local_interface) &&
               !owned_->owns(addr);
    }
    Verdict handle_icmp_error(pkt::ParsedIpv4& p, const Snapshot& snap);
    Verdict tunnel(pkt::ParsedIpv4& p, const Session& s, const Snapshot& snap);
    // Index into svc.reals for a new connection, through the persistence template if the
    // service has one; *tpl receives the template (nullptr if none). -1: no server.
    int choose_real(const pkt::ParsedIpv4& p, const ServiceSnap& svc, Tick now, Session** tpl);
    void track_state(Session& s, FlowDirection dir, uint8_t tcp_flags, const Snapshot& snap, Tick now);
    void end_session(Session& s);  // off the wheel already
    // Session sync: reports `s` to the master's sender (nothing when no tap or no master).
    void sync_event(const Session& s, SyncEventKind k) {
        if (params_.sync) params_.sync->emit(s, k, clock_, counters_);
    }
    InstallOutcome install_new(const SyncInstall& in, const ServiceSnap& svc, Tick expires);
    void count(InstallOutcome o);
    // A local port of `la` for a connection to rip:rport (network order), 0 if none is free.
    uint16_t acquire_local_port(LocalAddress& la, uint32_t rip, uint16_t rport_be);

    ForwarderParams params_;
    LocalAddressRegistry& laddrs_;
    SessionTable table_;
    ExpiryWheel wheel_;
    CounterArray<RealCounters> reals_;
    CounterArray<ServiceCounters> services_;
    std::unique_ptr<LoadBoard> own_load_;
    LoadBoard* load_;
    OverloadFlags overload_;
    std::unique_ptr<SchedState[]> sched_;  // by service id
    WorkerCounters counters_;
    uint16_t ip_id_ = 0;  // IPv4 identification of the headers this worker builds
    Tick clock_ = 0;      // `now` of the call in progress (session sync's event times)
    bool creating_ = false;  // create_session in progress: its first state change is not an event
    ExtraPacket extra_;
    const OwnedAddresses* owned_ = nullptr;
};

template <class F>
bool Forwarder::visit_sessions(uint32_t& cursor, unsigned budget, F&& f) const {
    for (uint32_t end = cursor + std::min(budget, table_.capacity() - cursor); cursor < end; ++cursor) {
        const Session* s = table_.at(cursor);
        if (s->wheel_next != no_index) f(*s);  // every live session is on the wheel
    }
    return cursor < table_.capacity();
}

}  // namespace dplb::fwd
