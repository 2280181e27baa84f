// The `passive-failures` request (docs/api.md), free of EAL so unit tests drive it: which real
// servers the dataplane's passive checks have seen fail, under which (service, address, port).
//
// The counts are the workers' RealCounters::syn_timeouts and resets_before_established summed
// by the caller (control_passive.cpp). A real server is named through the current snapshot;
// one that has left it is still named while its id is quarantined (sessions use it), from
// what the builder said when it retired it (DepartedReals). Counts of the ids that carried
// one name (a server removed, then added back under a new id) are added up.
//
// Threading: the control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "dataplane/config/snapshot_builder.hpp"
#include "model/stats.hpp"

namespace dplb::runtime {

struct PassiveCounts {
    uint64_t syn_timeouts = 0;
    uint64_t resets = 0;
    bool any() const { return syn_timeouts || resets; }
};

// Real servers that left the snapshot, by id, until their id is handed out again.
class DepartedReals {
public:
    // After each successful build of `b`: remembers the reals it retired and forgets the ids
    // it gave to new real servers.
    void update(const SnapshotBuilder& b);
    const std::unordered_map<uint32_t, SnapshotBuilder::RetiredReal>& by_id() const { return by_id_; }

private:
    std::unordered_map<uint32_t, SnapshotBuilder::RetiredReal> by_id_;
};

// Every real server with a nonzero count: those of `snap` in its order (services, then their
// real servers), then departed ones no live entry names, by id.
std::vector<model::PassiveFailures> collect_passive_failures(const Snapshot& snap, const DepartedReals& departed,
                                                             const std::function<PassiveCounts(uint32_t id)>& counts);

}  // namespace dplb::runtime
