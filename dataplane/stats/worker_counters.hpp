// Per-worker counters. Each worker owns one set (cache-line aligned, never shared for
// writing); the control thread sums them across workers when asked.
//
// Threading: written only by the owning worker (Counter::add), read by the control thread.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/stats/counter.hpp"
#include "dataplane/stats/drop_reason.hpp"

namespace dplb {

// Every per-worker counter, once: the struct's members and the names `dplbadm --status`
// shows (runtime/control_status.cpp) both come from this list, so they cannot drift apart.
#define DPLB_WORKER_COUNTERS(X)                                                                       \
    X(rx_packets) X(rx_bytes)                                                                        \
    X(tx_packets) X(tx_bytes)                                                                        \
    X(redirected_out) /* handed to the owning worker */                                              \
    X(redirected_in)  /* received from another worker */                                             \
    X(to_main)        /* handed to the main lcore (ARP, neighbour resolution) */                     \
    X(sessions_created) X(sessions_expired)                                                          \
    /* Sessions this worker created for a packet another worker owns (flow/owner.hpp): a canary      \
       that must stay 0, since the owner's table is the only one the other direction looks in. */   \
    X(sessions_created_not_owner)                                                                    \
    /* FULLNAT local ports chosen with RSS prediction: whose reply hashes to this worker's queue     \
       (steered) or, none being found among the candidates, not (unsteered: its replies are          \
       redirected in software). */                                                                   \
    X(lports_steered) X(lports_unsteered)                                                            \
    X(arp_replies) X(icmp_echo_replies)                                                              \
    X(icmp_errors_forwarded) /* ICMP errors about sessions, rewritten and passed on */              \
    X(icmp_frag_needed_sent) /* TUN: "fragmentation needed" sent back to clients */                 \
    /* Sessions ended at a packet because their real server had left a service with                  \
       expire_nodest_conn, and the TCP resets built for them (docs/architecture.md). */              \
    X(sessions_expired_nodest) X(nodest_resets)                                                      \
    /* Client SYNs (and UDP packets) that found their session's real server gone (or, with           \
       expire_nodest_conn, at weight 0) and were scheduled as new connections. */                    \
    X(sessions_rescheduled)                                                                          \
    X(idle_sleeps)           /* times the worker stopped polling because it was idle */        \
    /* Exception path: frames handed up toward a port's kernel twin, by class (control: VRRP,   \
       IGMP, ARP, BGP; other: the rest), and, on the main lcore, frames the kernel sent down. */  \
    X(exception_up_control) X(exception_up_other) X(exception_down)                               \
    /* sloppy_tcp (docs/ha.md): sessions created mid-flow from a segment other than a SYN. */      \
    X(sloppy_tcp_created)                                                                         \
    /* Session sync, master side (sync/sync_tap.hpp): events handed to the sender, events lost   \
       to a full ring, sessions pushed for a full-table dump. */                                  \
    X(sync_events) X(sync_events_lost) X(sync_dumped)                                              \
    /* Backup side (sync/sync_install.hpp, InstallOutcome): synced sessions installed, updated,   \
       replaced, and refused by reason. */                                                          \
    X(sync_installed) X(sync_updated) X(sync_replaced) X(sync_install_no_service)                  \
    X(sync_install_no_local_address) X(sync_install_port_unavailable) X(sync_install_conflict)     \
    X(sync_install_table_full)

struct alignas(64) WorkerCounters {
#define DPLB_COUNTER_MEMBER(name) Counter name;
    DPLB_WORKER_COUNTERS(DPLB_COUNTER_MEMBER)
#undef DPLB_COUNTER_MEMBER
    Counter drops[drop_reason_count];

    void drop(DropReason r) { drops[unsigned(r)].add(); }
};

// {name, member} of every counter of DPLB_WORKER_COUNTERS, in its order.
struct WorkerCounterField {
    const char* name;
    Counter WorkerCounters::*member;
};
inline constexpr WorkerCounterField worker_counter_fields[] = {
#define DPLB_COUNTER_FIELD(name) {#name, &WorkerCounters::name},
    DPLB_WORKER_COUNTERS(DPLB_COUNTER_FIELD)
#undef DPLB_COUNTER_FIELD
};

// ipvsadm's per-destination and per-service numbers, plus live session gauges.
struct alignas(64) RealCounters {
    Counter conns, in_packets, out_packets, in_bytes, out_bytes;
    Counter active, inactive;  // gauges: connections of this real server on this worker
    Counter live;              // gauge: active + inactive, changed only at create and end, so a
                               // reader never sees a connection moving between the two as gone
    Counter persistent;        // gauge: persistence templates bound to this real server
    // Passive checks (NAT and FULLNAT only; docs/architecture.md "Passive checks"): connections
    // whose SYN the server left unanswered (a client retransmission at least
    // passive_syn_timeout_ms after the first SYN, or expiry in a SYN state), and resets from
    // the server before ESTABLISHED.
    Counter syn_timeouts;
    Counter resets_before_established;
};

struct alignas(64) ServiceCounters {
    Counter conns, in_packets, out_packets, in_bytes, out_bytes;
    Counter live;  // gauge: sessions of this service on this worker
};

// Fixed-size arrays indexed by stable id, allocated once per worker.
template <class T>
class CounterArray {
public:
    explicit CounterArray(uint32_t n) : n_(n), items_(new T[n]) {}
    T& operator[](uint32_t id) { return items_[id]; }
    const T& operator[](uint32_t id) const { return items_[id]; }
    uint32_t size() const { return n_; }

private:
    uint32_t n_;
    std::unique_ptr<T[]> items_;
};

}  // namespace dplb
