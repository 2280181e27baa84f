// The configuration as typed changes edit it, in place, with the indexes that let a change
// be checked in time proportional to the change rather than to the table (10,000 services):
// services by key, the address services and port-group matches ordered for the "one packet,
// one service" rule, and the NAT real servers' persistence for the owner rule
// (docs/architecture.md "Ownership").
//
// apply() checks one change against the configuration as the earlier changes of the batch
// left it; on failure nothing of that change is applied and the error names the member in
// the change's request form, prefixed by `path` ("changes[3].real_server.weight" when path
// is "changes[3]"; no prefix when path is empty). Every applied change records its undo:
// rollback() returns to the last commit(), exactly (service order included).
//
// Service order: a deleted service's place is taken by the last service (O(1)); order only
// shows with ipvsadm's --nosort, whose order IPVS does not promise either.
//
// Used by dplb-control (its configuration), by journal replay, and by the dataplane's
// control thread (its copy of the configuration, kept in step by batches).
//
// Threading: one owner thread; not shared.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "dplb/config.hpp"
#include "model/change.hpp"

namespace dplb::model {

class ConfigEditor {
public:
    // `initial` must be valid (validate_config); building the indexes is O(size).
    explicit ConfigEditor(config::Config initial = {});
    ~ConfigEditor();
    ConfigEditor(ConfigEditor&&) noexcept;
    ConfigEditor& operator=(ConfigEditor&&) noexcept;

    const config::Config& config() const;

    const config::Service* find_service(const config::ServiceKey&) const;  // O(1)
    const config::PortGroup* find_port_group(uint32_t mark) const;

    Status apply(const Change&, const std::string& path = "");
    // Applies every change of `batch`, then commits; on the first failure rolls the batch
    // back and returns that error (paths "changes[i]..." when `indexed`).
    Status apply_batch(const Batch& batch, bool indexed = true);

    void commit();    // forget the undo log: the current configuration is the new base
    void rollback();  // undo everything applied since the last commit()
    // Undo what was applied after pending() was `mark` (one request of several staged).
    void rollback_to(std::size_t mark);
    std::size_t pending() const;  // changes applied since the last commit()

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dplb::model
