// `apply` (the whole configuration) and `apply-batch` (typed changes against the generation the
// dataplane has): both edit the same ConfigEditor, build the snapshot (apply-batch only the
// services the batch touched), publish it with one pointer store, wait for a QSBR grace
// period, free the previous snapshot and recycle what nothing uses any more.
#include "codec/change_json.hpp"
#include "codec/config_json.hpp"
#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/control_util.hpp"

namespace dplb::runtime {

using nlohmann::json;

namespace {

bool unsigned_member(const json& req, const char* name) {
    return req.contains(name) && req[name].is_number_unsigned();
}

}  // namespace

json ControlServer::apply(const json& req) {
    if (!unsigned_member(req, "generation")) return error_reply({"generation", "must be a non-negative integer"});
    if (!req.contains("config")) return error_reply({"config", "is required"});
    auto cfg = model::config_from_json(req["config"], "config");  // decodes and validates, once
    if (!cfg) return error_reply(cfg.error());
    uint64_t generation = req["generation"].get<uint64_t>();

    auto built = builder_.build(*cfg, generation);
    if (!built) return error_reply(built.error());
    // The editor starts again from the new configuration (ReplaceConfig): batches apply to it.
    editor_ = model::ConfigEditor(std::move(*cfg));
    configured_ = true;
    generation_ = generation;
    publish(std::move(*built));
    return {{"ok", true}, {"generation", generation}};
}

json ControlServer::apply_batch(const json& req) {
    if (!unsigned_member(req, "base")) return error_reply({"base", "must be a non-negative integer"});
    if (!unsigned_member(req, "generation")) return error_reply({"generation", "must be a non-negative integer"});
    uint64_t base = req["base"].get<uint64_t>(), generation = req["generation"].get<uint64_t>();
    if (!configured_ || base != generation_) {
        json r = error_reply({"base", configured_ ? "the dataplane has generation " + std::to_string(generation_) +
                                                        ", not " + std::to_string(base) + "; send the whole configuration"
                                                  : "the dataplane has no configuration yet; send the whole configuration"});
        r["resync"] = true;
        return r;
    }
    if (!req.contains("changes")) return error_reply({"changes", "is required"});
    auto batch = model::batch_from_json(req["changes"], "changes");
    if (!batch) return error_reply(batch.error());
    // Validated here, once, change by change; nothing is committed until the snapshot is built.
    for (size_t i = 0; i < batch->changes.size(); ++i)
        if (auto e = editor_.apply(batch->changes[i], "changes[" + std::to_string(i) + "]")) {
            editor_.rollback();
            return error_reply(*e);
        }
    auto built = builder_.build(editor_.config(), model::touched_by(*batch), generation,
                                [this](const config::ServiceKey& k) { return editor_.find_service(k); });
    if (!built) {
        editor_.rollback();
        return error_reply(built.error());
    }
    editor_.commit();
    generation_ = generation;
    publish(std::move(*built));
    return {{"ok", true}, {"generation", generation}, {"rebuilt", builder_.last_rebuilt()}};
}

void ControlServer::publish(std::unique_ptr<Snapshot> next) {
    for (uint32_t id : builder_.recycled_real_ids()) real_baseline_[id] = real_totals(id);
    for (uint32_t id : builder_.recycled_service_ids()) service_baseline_[id] = service_totals(id);

    const Snapshot* old = rt_.snapshot.exchange(next.release());
    flow_rules_.sync(*rt_.snapshot.load());  // steering for new local addresses (a hint only)
    rt_.rcu->synchronize();  // every reader has moved past `old`
    delete old;
    builder_.collect(
        [this](uint32_t id) {
            int64_t n = 0;
            for (const auto& f : rt_.forwarders) {
                // `live` and `persistent` change only when a connection or template is created or
                // ended, never in between (active/inactive move in two steps).
                const RealCounters& r = f.load(std::memory_order_acquire)->real_counters()[id];
                n += int64_t(r.live.get() + r.persistent.get());
            }
            return n != 0;
        },
        [this](uint32_t id) {
            uint64_t n = 0;
            for (const auto& f : rt_.forwarders) n += f.load(std::memory_order_acquire)->service_counters()[id].live.get();
            return n != 0;
        });
}

}  // namespace dplb::runtime
