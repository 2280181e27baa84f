// Every reason the dataplane drops a packet. Each drop increments exactly one per-worker
// counter named here; `dplbadm --status` prints them by name.
#pragma once

#include <cstdint>
#include <string_view>

namespace dplb {

#define DPLB_DROP_REASONS(X)                                                                   \
    X(eth_truncated)        /* frame shorter than an Ethernet header */                         \
    X(eth_unsupported)      /* neither IPv4 nor ARP */                                          \
    X(multi_segment)        /* chained mbuf: the rewrite code needs contiguous headers */      \
    X(arp_malformed)        /* ARP that is not Ethernet/IPv4 or too short */                    \
    X(arp_not_for_us)       /* ARP request for an address we do not own */                     \
    X(ip_truncated)         /* shorter than an IPv4 header */                                   \
    X(ip_bad_version)                                                                           \
    X(ip_bad_ihl)           /* IHL < 5 or header longer than the total length */                \
    X(ip_bad_total_length)  /* total length < header or > frame */                              \
    X(ip_bad_checksum)                                                                          \
    X(ip_fragment)          /* fragments are not reassembled yet */                             \
    X(ip_ttl_exceeded)      /* TTL would reach 0 when forwarding */                             \
    X(l4_truncated)         /* TCP/UDP/ICMP header does not fit */                              \
    X(tcp_bad_data_offset)                                                                      \
    X(udp_bad_length)                                                                           \
    X(icmp_unsupported)     /* ICMP other than echo request to a local address */               \
    X(icmp_no_session)      /* ICMP error quoting a packet of no session we track */           \
    X(tunnel_mtu_exceeded)  /* TUN: too big once encapsulated and DF not set (not fragmented) */\
    X(no_headroom)          /* TUN: the buffer has no room for the outer header */             \
    X(no_config)            /* no configuration snapshot published yet */                       \
    X(not_for_us)           /* IPv4 to an address we neither own nor track a session for */     \
    X(no_service)           /* VIP without a service on this protocol/port */                   \
    X(tcp_no_session)       /* TCP without SYN and without a session (IPVS drops these) */      \
    X(no_real_server)       /* every real server quiesced or overloaded */                      \
    X(session_table_full)                                                                       \
    X(session_conflict)     /* reply tuple already used by another session */                   \
    X(real_server_gone)     /* a reply of a session expired by expire_nodest_conn (UDP) */      \
    X(reset_no_mbuf)        /* no mbuf for a TCP reset the dataplane built (expire_nodest_conn) */\
    X(snat_no_local_address) /* FULLNAT service without a usable local address */               \
    X(snat_ports_exhausted) /* every local port of this worker in use */                        \
    X(no_route)                                                                                 \
    X(neighbor_unresolved)  /* ARP failed, or too many packets waiting for it */                \
    X(redirect_ring_full)   /* handing the packet to its owning worker failed */                \
    X(to_main_ring_full)    /* handing the packet to the main lcore failed */                   \
    X(tx_full)              /* the TX queue did not take the packet */                          \
    /* Exception path (docs/architecture.md): frames for a port's kernel twin. */               \
    X(exception_rate_limited)          /* over the worker's budget for other exception traffic */\
    X(exception_control_rate_limited)  /* over the budget for VRRP/IGMP/ARP/BGP */              \
    X(exception_ring_full)             /* the ring to the main lcore (other class) was full */  \
    X(exception_control_ring_full)     /* the ring to the main lcore (control class) was full */\
    X(exception_no_mbuf)               /* no mbuf for the twin's copy of an ARP reply */        \
    X(twin_tx_failed)                  /* the twin did not take the frame: full or its kernel side down */\
    X(twin_down_ring_full)             /* a frame from the twin found worker 0's ring full */\
    /* VIP ownership (docs/ha.md): what a node that does not hold the address drops. */         \
    X(vip_not_owned)        /* new connection (or ping) to a VIP/local address not held here */\
    X(arp_not_owned)        /* ARP request for a VIP/local address not held here */        \
    /* Link faults (docs/hardening.md): the port is paused while it is stopped and started. */  \
    X(port_paused)          /* to be sent on a port being restarted after its link dropped */

enum class DropReason : uint8_t {
    none = 0,
#define DPLB_X(name) name,
    DPLB_DROP_REASONS(DPLB_X)
#undef DPLB_X
        count_
};

inline constexpr unsigned drop_reason_count = unsigned(DropReason::count_);

constexpr std::string_view to_string(DropReason r) {
    constexpr std::string_view names[] = {
        "none",
#define DPLB_X(name) #name,
        DPLB_DROP_REASONS(DPLB_X)
#undef DPLB_X
    };
    return names[unsigned(r)];
}

}  // namespace dplb
