// The dataplane's configuration state and the two requests that change it, free of EAL so
// unit tests drive them: `apply` (the whole configuration: decoded and validated once,
// ReplaceConfig semantics) and `apply-batch` (typed changes whose base must be the current
// generation; validated once, by the ConfigEditor; the snapshot is built for the touched
// services only; a build failure rolls the editor back). Publishing the snapshot (pointer
// store, grace period, free, collect) is the caller's: control_apply.cpp.
//
// Threading: the control thread only.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>

#include "dataplane/config/snapshot_builder.hpp"
#include "model/config_editor.hpp"

namespace dplb::runtime {

class ConfigApplier {
public:
    explicit ConfigApplier(SnapshotBuilder& builder) : builder_(builder) {}

    struct Outcome {
        nlohmann::json reply;
        std::unique_ptr<Snapshot> snapshot;  // to publish; null when the request failed
    };
    Outcome apply(const nlohmann::json& request);
    Outcome apply_batch(const nlohmann::json& request);

    bool configured() const { return configured_; }
    uint64_t generation() const { return generation_; }
    const config::Config& config() const { return editor_.config(); }

private:
    SnapshotBuilder& builder_;
    model::ConfigEditor editor_;  // the configuration of generation_, as the snapshot has it
    uint64_t generation_ = 0;
    bool configured_ = false;     // an `apply` has set editor_ (batches need a base)
};

}  // namespace dplb::runtime
