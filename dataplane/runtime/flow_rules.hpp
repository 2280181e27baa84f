// rte_flow steering of FULLNAT replies, for ports whose RSS cannot be predicted but whose
// PMD takes flow rules (flow director and the like): for each local address and each worker
// w, "IPv4 to LIP, TCP (and UDP) destination port & (N-1) == w  ->  queue w". A local port's
// owner is lport % N (snat/port_owner.hpp), which is lport & (N-1) only when N is a power of
// two, so rules are used only then. Client packets keep RSS and the software redirect.
//
// A rule that cannot be created costs nothing but speed: its packets land on some queue and
// the software redirect takes them to their owner. Failures are counted, never fatal.
//
// Threading: probe() on the main thread before workers launch; the rest on the control
// thread only (one caller per port, as rte_flow wants).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "dataplane/config/snapshot.hpp"
#include "dataplane/runtime/runtime.hpp"

struct rte_flow;

namespace dplb::runtime {

class FlowRules {
public:
    // For each port left to the software redirect: does the PMD validate such a rule? Marks
    // the port "rte-flow" where it does, else says why not in its steering_detail.
    static void probe(Runtime& rt);

    explicit FlowRules(Runtime& rt) : rt_(rt), failures_(rt.ports.size()) {}
    ~FlowRules();
    FlowRules(const FlowRules&) = delete;
    FlowRules& operator=(const FlowRules&) = delete;

    // Creates the rules of local addresses new in `snap` and destroys those of addresses it
    // no longer has.
    void sync(const Snapshot& snap);

    size_t rules(uint16_t port_index) const;
    uint64_t failures(uint16_t port_index) const { return failures_[port_index]; }

private:
    struct Installed {
        uint16_t port_index;
        std::vector<rte_flow*> flows;
    };
    Runtime& rt_;
    std::map<uint32_t, std::vector<Installed>> by_address_;  // local address (network order)
    std::vector<uint64_t> failures_;  // rules that could not be created or destroyed, by port
};

}  // namespace dplb::runtime
