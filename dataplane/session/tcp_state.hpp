// IPVS's TCP connection state machine (net/netfilter/ipvs/ip_vs_proto_tcp.c, tcp_states),
// with its default timeouts.
#pragma once

#include <cstdint>

#include "dataplane/session/session.hpp"

namespace dplb {

enum class FlowDirection : uint8_t {
    orig,   // client -> director (IPVS "INPUT")
    reply,  // real server -> director (IPVS "OUTPUT")
};

// Next state for a TCP segment with `tcp_flags` seen in `dir`. `input_only` selects IPVS's
// INPUT-ONLY table (DR/TUN, where replies are never seen). Flags with none of
// RST/SYN/FIN/ACK leave the state unchanged.
SessionState tcp_next_state(SessionState current, FlowDirection dir, bool input_only, uint8_t tcp_flags);

// IPVS default timeouts in seconds, indexed by SessionState (tcp_timeouts[], udp 5 min).
extern const uint32_t default_state_timeout_s[session_state_count];

const char* to_string(SessionState);

}  // namespace dplb
