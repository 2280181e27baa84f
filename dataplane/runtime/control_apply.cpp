// `apply` and `apply-batch` (decoded, checked and built by ConfigApplier), then publishing:
// one pointer store, a QSBR grace period, the previous snapshot freed, and what nothing uses
// any more recycled.
#include "dataplane/runtime/control_server.hpp"
#include "dataplane/runtime/control_util.hpp"

namespace dplb::runtime {

using nlohmann::json;

json ControlServer::apply(const json& req) {
    auto out = applier_.apply(req);
    if (out.snapshot) publish(std::move(out.snapshot));
    return out.reply;
}

json ControlServer::apply_batch(const json& req) {
    auto out = applier_.apply_batch(req);
    if (out.snapshot) publish(std::move(out.snapshot));
    return out.reply;
}

void ControlServer::publish(std::unique_ptr<Snapshot> next) {
    for (uint32_t id : builder_.recycled_real_ids()) {
        real_baseline_[id] = real_totals(id);
        passive_baseline_[id] = passive_sum(id);
        rates_.forget_real(id);
    }
    departed_.update(builder_);
    for (uint32_t id : builder_.recycled_service_ids()) {
        service_baseline_[id] = service_totals(id);
        rates_.forget_service(id);
    }

    const Snapshot* old = rt_.snapshot.exchange(next.release());
    rt_.sync.set_config(applier_.config().sync_daemons);  // the sync engine (re)starts its daemons
    flow_rules_.sync(*rt_.snapshot.load());  // steering for new local addresses (a hint only)
    rt_.rcu->synchronize();  // every reader has moved past `old`
    published_at_ = std::chrono::steady_clock::now();  // every worker runs `next` from here on
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
