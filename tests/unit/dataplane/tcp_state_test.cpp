// The IPVS TCP state machine against the kernel's table (net/netfilter/ipvs/ip_vs_proto_tcp.c,
// tcp_states[], transcribed here independently), whole connections in both directions, and
// the default timeouts.
#include <vector>

#include "catch_print.hpp"
#include "dataplane/packet/headers.hpp"
#include "dataplane/session/tcp_state.hpp"

using namespace dplb;

namespace {

using S = SessionState;
constexpr S sNO = S::tcp_none, sES = S::tcp_established, sSS = S::tcp_syn_sent, sSR = S::tcp_syn_recv,
            sFW = S::tcp_fin_wait, sTW = S::tcp_time_wait, sCL = S::tcp_close, sCW = S::tcp_close_wait,
            sLA = S::tcp_last_ack, sLI = S::tcp_listen, sSA = S::tcp_synack;

// ip_vs_proto_tcp.c, tcp_states[] as in mainline Linux (torvalds/linux): [INPUT, OUTPUT,
// INPUT-ONLY][syn, fin, ack, rst][state]. Note ACK in NONE -> CLOSE on input: some kernel trees
// have ESTABLISHED there; we follow mainline.
const S kernel[3][4][11] = {
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
constexpr uint8_t SYN = pkt::tcp_syn, FIN = pkt::tcp_fin, ACK = pkt::tcp_ack, RST = pkt::tcp_rst,
                  PSH = pkt::tcp_psh, URG = 0x20, ECE = 0x40, CWR = 0x80;
constexpr FlowDirection IN = FlowDirection::orig, OUT = FlowDirection::reply;

struct Step {
    FlowDirection dir;
    uint8_t flags;
    S want;
};

void run(const char* what, bool input_only, const std::vector<Step>& steps) {
    S s = sNO;
    for (size_t i = 0; i < steps.size(); ++i) {
        INFO(what << ", step " << i);
        s = tcp_next_state(s, steps[i].dir, input_only, steps[i].flags);
        CHECK(s == steps[i].want);
    }
}

}  // namespace

TEST_CASE("tcp_next_state equals the kernel's table for every table, event and state", "[tcp_state]") {
    const uint8_t event_flags[4] = {SYN, FIN, ACK, RST};
    const char* tables[3] = {"INPUT", "OUTPUT", "INPUT-ONLY"};
    for (int t = 0; t < 3; ++t)
        for (int e = 0; e < 4; ++e)
            for (unsigned st = 0; st < 11; ++st) {
                FlowDirection dir = t == 1 ? OUT : IN;
                INFO(tables[t] << " event " << e << " from " << to_string(S(st)));
                CHECK(tcp_next_state(S(st), dir, t == 2, event_flags[e]) == kernel[t][e][st]);
            }
}

TEST_CASE("tcp_next_state: event priority RST > SYN > FIN > ACK", "[tcp_state]") {
    for (int t = 0; t < 3; ++t)
        for (unsigned st = 0; st < 11; ++st) {
            FlowDirection dir = t == 1 ? OUT : IN;
            bool io = t == 2;
            INFO("table " << t << " from " << to_string(S(st)));
            CHECK(tcp_next_state(S(st), dir, io, RST | SYN) == kernel[t][3][st]);
            CHECK(tcp_next_state(S(st), dir, io, RST | FIN | ACK | SYN) == kernel[t][3][st]);
            CHECK(tcp_next_state(S(st), dir, io, SYN | ACK) == kernel[t][0][st]);
            CHECK(tcp_next_state(S(st), dir, io, SYN | FIN) == kernel[t][0][st]);
            CHECK(tcp_next_state(S(st), dir, io, FIN | ACK | PSH) == kernel[t][1][st]);
            CHECK(tcp_next_state(S(st), dir, io, ACK | PSH | URG | ECE | CWR) == kernel[t][2][st]);
        }
}

TEST_CASE("tcp_next_state: flags without SYN, FIN, ACK or RST leave every state unchanged", "[tcp_state]") {
    for (uint8_t flags : {uint8_t(0), PSH, URG, uint8_t(PSH | URG | ECE | CWR)})
        for (unsigned st = 0; st < session_state_count; ++st)
            for (FlowDirection dir : {IN, OUT})
                for (bool io : {false, true}) {
                    INFO("flags " << int(flags) << " state " << to_string(S(st)));
                    CHECK(tcp_next_state(S(st), dir, io, flags) == S(st));
                }
}

TEST_CASE("tcp_next_state: the UDP state is not a TCP state and never moves", "[tcp_state]") {
    for (uint8_t flags : {SYN, FIN, ACK, RST})
        CHECK(tcp_next_state(S::udp, IN, false, flags) == S::udp);
}

TEST_CASE("tcp_next_state: whole connections", "[tcp_state]") {
    const std::vector<Step> handshake = {{IN, SYN, sSR}, {OUT, SYN | ACK, sSR}, {IN, ACK, sES}, {IN, ACK | PSH, sES},
                                         {OUT, ACK | PSH, sES}};
    auto then = [&](std::vector<Step> more) {
        std::vector<Step> all = handshake;
        all.insert(all.end(), more.begin(), more.end());
        return all;
    };
    run("client closes first", false,
        then({{IN, FIN | ACK, sCW}, {OUT, ACK, sCW}, {OUT, FIN | ACK, sTW}, {IN, ACK, sTW}}));
    run("server closes first", false,
        then({{OUT, FIN | ACK, sFW}, {IN, ACK, sFW}, {IN, FIN | ACK, sTW}, {OUT, ACK, sTW}}));
    run("simultaneous close", false, then({{IN, FIN | ACK, sCW}, {OUT, FIN | ACK, sTW}, {IN, ACK, sTW}, {OUT, ACK, sTW}}));
    run("client resets", false, then({{IN, RST, sCL}, {OUT, RST, sCL}}));
    run("server resets", false, then({{OUT, RST | ACK, sCL}}));
    run("server refuses the SYN", false, {{IN, SYN, sSR}, {OUT, RST | ACK, sCL}});
    run("SYN retransmitted, then answered", false, {{IN, SYN, sSR}, {IN, SYN, sSR}, {OUT, SYN | ACK, sSR}, {IN, ACK, sES}});
    run("new SYN on a TIME_WAIT tuple", false,
        then({{IN, FIN | ACK, sCW}, {OUT, FIN | ACK, sTW}, {IN, SYN, sSR}, {OUT, SYN | ACK, sSR}, {IN, ACK, sES}}));
    run("DR/TUN (INPUT-ONLY): client only", true,
        {{IN, SYN, sSR}, {IN, ACK, sES}, {IN, ACK | PSH, sES}, {IN, FIN | ACK, sFW}, {IN, ACK, sFW}});
    run("INPUT-ONLY reset from SYN_ACK", true, {{IN, SYN, sSR}, {IN, RST, sSR}, {IN, ACK, sES}, {IN, RST, sCL}});
}

TEST_CASE("default_state_timeout_s: the IPVS defaults", "[tcp_state]") {
    const std::pair<S, uint32_t> want[] = {
        {sNO, 2},       {sES, 900},     {sSS, 120}, {sSR, 60},  {sFW, 120}, {sTW, 120},
        {sCL, 10},      {sCW, 60},      {sLA, 30},  {sLI, 120}, {sSA, 120}, {S::udp, 300},
    };
    static_assert(std::size(want) == session_state_count);
    for (auto [s, secs] : want) {
        INFO(to_string(s));
        CHECK(default_state_timeout_s[unsigned(s)] == secs);
    }
}

TEST_CASE("to_string(SessionState): ipvsadm's names", "[tcp_state]") {
    const char* names[] = {"NONE",      "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
                           "CLOSE",     "CLOSE_WAIT",  "LAST_ACK",   "LISTEN",   "SYNACK",   "UDP"};
    for (unsigned i = 0; i < session_state_count; ++i) CHECK(std::string(to_string(S(i))) == names[i]);
    CHECK(std::string(to_string(S::count_)) == "?");
}
