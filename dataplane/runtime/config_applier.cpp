// The requests that change the configuration: see config_applier.hpp.
#include "dataplane/runtime/config_applier.hpp"

#include "codec/change_json.hpp"
#include "codec/config_json.hpp"
#include "dataplane/runtime/control_util.hpp"

namespace dplb::runtime {

using nlohmann::json;

namespace {

bool unsigned_member(const json& req, const char* name) {
    return req.contains(name) && req[name].is_number_unsigned();
}

ConfigApplier::Outcome fail(const model::Error& e) { return {error_reply(e), nullptr}; }

}  // namespace

ConfigApplier::Outcome ConfigApplier::apply(const json& req) {
    if (!unsigned_member(req, "generation")) return fail({"generation", "must be a non-negative integer"});
    if (!req.contains("config")) return fail({"config", "is required"});
    auto cfg = model::config_from_json(req["config"], "config");  // decodes and validates, once
    if (!cfg) return fail(cfg.error());
    uint64_t generation = req["generation"].get<uint64_t>();

    auto built = builder_.build(*cfg, generation);
    if (!built) return fail(built.error());
    // The editor starts again from the new configuration (ReplaceConfig): batches apply to it.
    editor_ = model::ConfigEditor(std::move(*cfg));
    configured_ = true;
    generation_ = generation;
    return {{{"ok", true}, {"generation", generation}}, std::move(*built)};
}

ConfigApplier::Outcome ConfigApplier::apply_batch(const json& req) {
    if (!unsigned_member(req, "base")) return fail({"base", "must be a non-negative integer"});
    if (!unsigned_member(req, "generation")) return fail({"generation", "must be a non-negative integer"});
    uint64_t base = req["base"].get<uint64_t>(), generation = req["generation"].get<uint64_t>();
    if (!configured_ || base != generation_) {
        json r = error_reply({"base", configured_ ? "the dataplane has generation " + std::to_string(generation_) +
                                                        ", not " + std::to_string(base) + "; send the whole configuration"
                                                  : "the dataplane has no configuration yet; send the whole configuration"});
        r["resync"] = true;
        return {std::move(r), nullptr};
    }
    if (!req.contains("changes")) return fail({"changes", "is required"});
    auto batch = model::batch_from_json(req["changes"], "changes");
    if (!batch) return fail(batch.error());
    // Validated here, once, change by change; nothing is committed until the snapshot is built.
    for (size_t i = 0; i < batch->changes.size(); ++i)
        if (auto e = editor_.apply(batch->changes[i], "changes[" + std::to_string(i) + "]")) {
            editor_.rollback();
            return fail(*e);
        }
    auto built = builder_.build(editor_.config(), model::touched_by(*batch), generation,
                                [this](const config::ServiceKey& k) { return editor_.find_service(k); });
    if (!built) {
        editor_.rollback();
        return fail(built.error());
    }
    editor_.commit();
    generation_ = generation;
    return {{{"ok", true}, {"generation", generation}, {"rebuilt", builder_.last_rebuilt()}}, std::move(*built)};
}

}  // namespace dplb::runtime
