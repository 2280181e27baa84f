// One tracked connection, exactly one cache line.
//
// A session is indexed under its `orig` key (client -> VIP, as the client sends it) and,
// for modes that see replies (NAT, FULLNAT), under its `reply` key (real server -> LIP or
// client, as the real server sends it). The two keys are all the rewrite needs: a packet
// matching one key leaves with the other key reversed. DR/TUN sessions keep the reply key
// too (for listing and ICMP) but do not index it.
//
// A persistence template is a session too (flag session_template), keyed
// (proto 0, masked client, VIP or mark, 0, VIP port or 0) so no packet can match it.
//
// Threading: owned by one worker; nobody else reads or writes it.
#pragma once

#include <cstdint>

#include "dataplane/session/flow_key.hpp"
#include "dataplane/session/time.hpp"

namespace dplb {

// IPVS's TCP states in IPVS's order (so the transition table reads like the kernel's), then
// the single UDP state. The value indexes the timeout table.
enum class SessionState : uint8_t {
    tcp_none,
    tcp_established,
    tcp_syn_sent,
    tcp_syn_recv,
    tcp_fin_wait,
    tcp_time_wait,
    tcp_close,
    tcp_close_wait,
    tcp_last_ack,
    tcp_listen,
    tcp_synack,
    udp,
    count_
};
inline constexpr unsigned session_state_count = unsigned(SessionState::count_);

enum class ForwardMode : uint8_t { nat, fullnat, dr, tunnel };

enum SessionFlags : uint8_t {
    session_reply_indexed = 1,  // the reply key is in the table (NAT, FULLNAT)
    session_active = 2,         // counted in ActiveConn (else InActConn), as IPVS does
    session_input_only = 4,     // DR/TUN: replies bypass us; IPVS's INPUT_ONLY state table
    session_template = 8,       // a persistence template, not a connection
    session_mode_mask = 0x30,   // ForwardMode << session_mode_shift
    // Passive checks (NAT, FULLNAT): a packet from the real server was seen; the session was
    // already counted in its real server's syn_timeouts.
    session_server_answered = 0x40,
    session_syn_timeout_counted = 0x80,
};
inline constexpr unsigned session_mode_shift = 4;

inline constexpr uint32_t no_index = 0xffffffffu;
inline constexpr uint16_t no_laddr = 0xffff;

struct alignas(64) Session {
    FlowKey orig;            // client -> VIP
    FlowKey reply;           // real server -> LIP (FULLNAT) or client (NAT)
    Tick expires = 0;        // may move later lazily; the wheel re-checks it
    uint32_t wheel_next = no_index;
    uint32_t wheel_prev = no_index;
    uint32_t real_id = 0;    // stable id of the real server (counters, connection counts)
    uint32_t service_id = 0; // stable id of the virtual service (counters)
    uint16_t laddr_id = no_laddr;  // FULLNAT: local address whose port this session holds
    SessionState state = SessionState::tcp_none;
    uint8_t flags = 0;  // SessionFlags, and the forward mode in session_mode_mask
    // A connection: index of the persistence template that chose its server (no_index if
    // none). A template: how many connections it controls (it outlives them all).
    uint32_t control = no_index;
    Tick created = 0;  // when the first packet arrived (passive checks: how old a SYN session is)

    ForwardMode mode() const { return ForwardMode((flags & session_mode_mask) >> session_mode_shift); }
    void set_mode(ForwardMode m) {
        flags = uint8_t((flags & ~session_mode_mask) | (unsigned(m) << session_mode_shift));
    }
    bool is_template() const { return flags & session_template; }
    // Session sync: installed from a peer and not yet this node's (docs/ha.md "Configuration":
    // a synced copy's end and refreshes are never sent back). The installer marks it
    // syn_timeout_counted without server_answered, which also keeps the passive checks off
    // it; a native session gets that combination only when its server never answered, whose
    // end then goes unsent too (the peer's copy expires on its own). No dedicated bit: the
    // flags byte is full and Session is one cache line. A copy becomes this node's when it
    // forwards a server's packet (NAT, FULLNAT) or a client's (DR/TUN, whose replies bypass
    // it: forward_existing sets server_answered), or, a template, when choose_real uses it.
    bool is_synced_copy() const {
        return (flags & (session_server_answered | session_syn_timeout_counted)) == session_syn_timeout_counted;
    }
    // Waiting for the handshake: IPVS's SYN_SENT or SYN_RECV.
    bool in_syn_state() const { return state == SessionState::tcp_syn_sent || state == SessionState::tcp_syn_recv; }
};
static_assert(sizeof(Session) == 64);

}  // namespace dplb
