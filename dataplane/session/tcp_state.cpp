#include "dataplane/session/tcp_state.hpp"

#include "dataplane/packet/headers.hpp"

namespace dplb {

namespace {

using S = SessionState;
constexpr S sNO = S::tcp_none, sES = S::tcp_established, sSS = S::tcp_syn_sent, sSR = S::tcp_syn_recv,
            sFW = S::tcp_fin_wait, sTW = S::tcp_time_wait, sCL = S::tcp_close, sCW = S::tcp_close_wait,
            sLA = S::tcp_last_ack, sLI = S::tcp_listen, sSA = S::tcp_synack;

constexpr unsigned tcp_state_count = 11;
using Row = S[tcp_state_count];

// [table][event][current]; tables: INPUT, OUTPUT, INPUT-ONLY; events: syn, fin, ack, rst.
// As in mainline Linux (torvalds/linux); some kernel trees send NONE to ESTABLISHED on an
// input ACK instead.
constexpr Row transitions[3][4] = {
    {
        /*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA */
        /*syn*/ {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
        /*fin*/ {sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW},
        /*ack*/ {sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
        /*rst*/ {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR},
    },
    {
        /*syn*/ {sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR},
        /*fin*/ {sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW},
        /*ack*/ {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES},
        /*rst*/ {sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL},
    },
    {
        /*syn*/ {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
        /*fin*/ {sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW},
        /*ack*/ {sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
        /*rst*/ {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL},
    },
};

}  // namespace

SessionState tcp_next_state(SessionState current, FlowDirection dir, bool input_only, uint8_t flags) {
    if (unsigned(current) >= tcp_state_count) return current;
    int event;  // IPVS's tcp_state_idx(): RST wins, then SYN, FIN, ACK
    if (flags & pkt::tcp_rst)
        event = 3;
    else if (flags & pkt::tcp_syn)
        event = 0;
    else if (flags & pkt::tcp_fin)
        event = 1;
    else if (flags & pkt::tcp_ack)
        event = 2;
    else
        return current;
    unsigned table = dir == FlowDirection::reply ? 1 : input_only ? 2 : 0;
    return transitions[table][event][unsigned(current)];
}

const uint32_t default_state_timeout_s[session_state_count] = {
    2,        // NONE
    15 * 60,  // ESTABLISHED  (ipvsadm --set tcp)
    2 * 60,   // SYN_SENT
    60,       // SYN_RECV
    2 * 60,   // FIN_WAIT     (ipvsadm --set tcpfin)
    2 * 60,   // TIME_WAIT
    10,       // CLOSE
    60,       // CLOSE_WAIT
    30,       // LAST_ACK
    2 * 60,   // LISTEN
    120,      // SYNACK
    5 * 60,   // UDP          (ipvsadm --set udp)
};

const char* to_string(SessionState s) {
    static const char* const names[] = {"NONE",      "ESTABLISHED", "SYN_SENT",   "SYN_RECV",
                                        "FIN_WAIT",  "TIME_WAIT",   "CLOSE",      "CLOSE_WAIT",
                                        "LAST_ACK",  "LISTEN",      "SYNACK",     "UDP"};
    return unsigned(s) < session_state_count ? names[unsigned(s)] : "?";
}

}  // namespace dplb
