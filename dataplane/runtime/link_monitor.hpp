// Link faults (docs/hardening.md): the main lcore's watch over every port's link, and the
// restarts that bring a dropped link back (LinkRecovery decides when; port_link.hpp says how
// the workers keep off a port while it restarts). Links are read every `poll_ms` while up,
// every `down_poll_ms` while down, and at once after an LSC event where the PMD raises them.
// Sessions live in the workers' tables: a restart does not touch them.
//
// Threading: constructed, polled and destroyed on the main lcore, which must report its own
// QSBR quiescent state between polls (a restart waits for a grace period across iterations).
// The LSC callback runs on the EAL interrupt thread and only sets PortLink::lsc_event.
#pragma once

#include <string>
#include <vector>

#include "common/log.hpp"
#include "dataplane/runtime/link_recovery.hpp"
#include "dataplane/runtime/runtime.hpp"

namespace dplb::runtime {

class LinkMonitor {
public:
    static constexpr Tick poll_ms = 100;
    static constexpr Tick down_poll_ms = 10;

    LinkMonitor(Runtime& rt, Tick now);
    ~LinkMonitor();
    LinkMonitor(const LinkMonitor&) = delete;
    LinkMonitor& operator=(const LinkMonitor&) = delete;

    // Returns the number of links read or acted on (0: nothing was due).
    unsigned poll(Tick now);

private:
    struct Port {
        LinkRecovery fsm;
        Tick next_read = 0;
        bool grace_pending = false;  // paused, waiting for the workers' grace period
        uint64_t grace_token = 0;
        bool unknown_logged = false;
    };
    LinkView read(size_t index) const;
    void act(size_t index, LinkRecovery::Action a);
    void begin_restart(size_t index);
    void finish_restart(size_t index, Tick now);
    void publish(size_t index, LinkView v);

    Runtime& rt_;
    std::vector<Port> ports_;
    log::Logger log_;
};

}  // namespace dplb::runtime
