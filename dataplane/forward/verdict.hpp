// What the worker loop does with a packet after the forwarding logic has seen it.
#pragma once

#include <cstdint>

#include "dataplane/stats/drop_reason.hpp"

namespace dplb::fwd {

struct Verdict {
    enum class Action : uint8_t {
        forward,  // rewritten; route `route_to`, fill in the Ethernet header, transmit
        reply,    // answered in place (ARP, ICMP echo); send back out of the input port
        to_main,  // the main lcore needs it (ARP replies and announcements, for learning)
        drop,     // free it and count `reason`
    };
    Action action = Action::drop;
    DropReason reason = DropReason::none;
    // The forwarder built a second packet besides this one (Forwarder::extra()): the caller
    // sends it too, whatever `action` says of this one.
    bool extra = false;
    uint32_t route_to = 0;  // network order; forward only

    static Verdict forward_to(uint32_t addr) { return {Action::forward, DropReason::none, false, addr}; }
    static Verdict reply() { return {Action::reply, DropReason::none, false, 0}; }
    static Verdict to_main() { return {Action::to_main, DropReason::none, false, 0}; }
    static Verdict drop(DropReason r) { return {Action::drop, r, false, 0}; }
};

}  // namespace dplb::fwd
