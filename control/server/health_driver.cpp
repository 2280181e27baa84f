#include "control/server/health_driver.hpp"

#include <algorithm>
#include <set>

#include "codec/config_json.hpp"
#include "control/health/names.hpp"
#include "control/health/status_json.hpp"
#include "model/config_find.hpp"

namespace dplb::server {

using nlohmann::json;

namespace {

bool sees_replies(config::ForwardMethod f) {
    return f == config::ForwardMethod::nat || f == config::ForwardMethod::fullnat;
}

bool same_key(const config::ServiceKey& a, const config::ServiceKey& b) { return a == b; }

using ServiceKeyTuple = std::tuple<uint32_t, uint8_t, uint32_t, uint16_t>;
ServiceKeyTuple key_tuple(const config::ServiceKey& k) {
    return {k.fwmark, uint8_t(k.protocol), k.address.host(), k.port};
}

config::RealHealth model_state(health::RealState s) {
    switch (s) {
        case health::RealState::up: return config::RealHealth::up;
        case health::RealState::removed: return config::RealHealth::removed;
        case health::RealState::inhibited: return config::RealHealth::inhibited;
    }
    return config::RealHealth::up;
}

const config::RealServer* find_real(const config::Service& s, Ip4 address, uint16_t port) {
    for (const auto& r : s.reals)
        if (r.address == address && r.port == port) return &r;
    return nullptr;
}

}  // namespace

HealthDriver::HealthDriver(health::EngineOptions options, double passive_seconds, log::Logger log)
    : engine_(std::make_unique<health::HealthEngine>(std::move(options), log)),
      passive_(std::chrono::milliseconds(int64_t(passive_seconds * 1000))),
      log_(std::move(log)) {}

void HealthDriver::seed_runtime(const config::Config& current, config::Config& target,
                                const keepalived::KeepalivedConfig& file) {
    for (std::size_t i = 0; i < target.services.size(); ++i) {
        auto& s = target.services[i];
        const config::Service* before = nullptr;
        for (const auto& c : current.services)
            if (same_key(c.key, s.key)) before = &c;
        const keepalived::VirtualServerHealth* h = nullptr;
        for (const auto& vh : file.health)
            if (same_key(vh.key, s.key)) h = &vh;
        if (before && s.sorry_server && before->sorry_server) s.sorry_active = before->sorry_active;
        for (auto& r : s.reals) {
            if (const config::RealServer* old = before ? find_real(*before, r.address, r.port) : nullptr) {
                r.health = old->health;
                r.dynamic_weight = old->dynamic_weight;
                continue;
            }
            if (!h || !h->alpha) continue;
            for (const auto& rh : h->reals)
                if (rh.address == r.address && rh.port == r.port && !rh.checkers.empty())
                    r.health = rh.inhibit_on_failure ? config::RealHealth::inhibited : config::RealHealth::removed;
        }
    }
}

void HealthDriver::adopt(std::string path, keepalived::KeepalivedConfig file, const config::Config& config) {
    path_ = std::move(path);
    std::vector<std::string> fifos;
    for (const auto& f : {file.lvs_notify_fifo, file.notify_fifo})
        if (f && std::find(fifos.begin(), fifos.end(), *f) == fifos.end()) fifos.push_back(*f);
    engine_->set_notify_fifos(std::move(fifos));
    file_health_ = std::move(file.health);
    reconfigure(config);
}

void HealthDriver::follow(const config::Config& config) {
    if (passive()) reconfigure(config);
}

void HealthDriver::reconfigure(const config::Config& config) {
    std::vector<keepalived::VirtualServerHealth> set = file_health_;
    if (passive()) {
        // Every NAT/FULLNAT real server the file does not check: no checker, so only the
        // dataplane's passive observations can take it out.
        std::map<ServiceKeyTuple, std::size_t> by_key;
        for (std::size_t i = 0; i < set.size(); ++i) by_key.emplace(key_tuple(set[i].key), i);
        for (const auto& s : config.services) {
            auto it = by_key.find(key_tuple(s.key));
            std::set<std::pair<uint32_t, uint16_t>> known;
            if (it != by_key.end())
                for (const auto& rh : set[it->second].reals) known.emplace(rh.address.host(), rh.port);
            std::size_t index = it == by_key.end() ? set.size() : it->second;
            for (const auto& r : s.reals) {
                if (!sees_replies(r.forward)) continue;
                if (index == set.size()) {
                    set.push_back(keepalived::VirtualServerHealth{});
                    set.back().key = s.key;
                    set.back().quorum = 0;
                }
                auto* vh = &set[index];
                if (!known.emplace(r.address.host(), r.port).second) continue;
                keepalived::RealServerHealth rh;
                rh.address = r.address;
                rh.port = r.port;
                rh.weight = r.weight;
                vh->reals.push_back(std::move(rh));
            }
        }
    }
    engine_->configure(set);
}

std::vector<model::Change> HealthDriver::take_changes(const config::Config& config) {
    std::vector<model::Change> out;
    // A later effect on the same real server supersedes an earlier one of this call.
    auto effects = engine_->take_real_effects();
    std::map<RealKey, std::size_t> last;
    auto key_of = [](const health::RealEffect& e) {
        return RealKey{e.service.fwmark, uint8_t(e.service.protocol), e.service.address.host(), e.service.port,
                       e.address.host(), e.port};
    };
    for (std::size_t i = 0; i < effects.size(); ++i) last[key_of(effects[i])] = i;
    for (std::size_t i = 0; i < effects.size(); ++i) {
        const auto& e = effects[i];
        if (last[key_of(e)] != i) continue;
        const config::Service* s = model::find_service(config, e.service);
        const config::RealServer* r = s ? find_real(*s, e.address, e.port) : nullptr;
        if (!r) continue;  // removed by a request since: nothing to mark
        model::SetRealHealth c{e.service, e.address, e.port, model_state(e.state), e.weight};
        if (r->health == c.health && r->dynamic_weight == c.dynamic_weight) continue;
        out.push_back(std::move(c));
    }
    for (const auto& e : engine_->take_sorry_effects()) {
        const config::Service* s = model::find_service(config, e.service);
        if (!s || !s->sorry_server || s->sorry_active == e.active) continue;
        out.push_back(model::SetSorryActive{e.service, e.active});
    }
    return out;
}

void HealthDriver::on_passive_failures(const json& reply, const config::Config& config) {
    auto reals = reply.find("reals");
    if (reals == reply.end() || !reals->is_array()) return;
    // The dataplane counts from its own start: what it counted before this process listened
    // (a restart of dplb-control, passive checks just turned on) is history, not news.
    const bool baseline = !baseline_taken_;
    baseline_taken_ = true;
    for (const auto& r : *reals) {
        auto key = model::service_key_from_json(r.value("service", json()), "service");
        auto addr = Ip4::parse(r.value("address", std::string()));
        if (!key || !addr) continue;
        uint16_t port = r.value("port", uint16_t(0));
        uint64_t failures = r.value("syn_timeouts", uint64_t(0)) + r.value("resets", uint64_t(0));
        RealKey k{key->fwmark, uint8_t(key->protocol), key->address.host(), key->port, addr->host(), port};
        uint64_t& seen = passive_seen_[k];
        // Cumulative counters: only an increase is news (a restarted dataplane starts at 0).
        const bool news = !baseline && failures > seen;
        seen = failures;
        if (!news) continue;
        // One client's resets must not empty a service: the last server in the table stays.
        const config::Service* s = model::find_service(config, *key);
        if (!s) continue;
        const bool others = std::any_of(s->reals.begin(), s->reals.end(), [&](const config::RealServer& x) {
            return !(x.address == *addr && x.port == port) && x.health == config::RealHealth::up;
        });
        if (!others) {
            log::Event e{log::Level::warning, "passive_check_kept_last_server", {}, true};
            health::real_fields(e.fields, *key, *addr, port);
            log_(e);
            continue;
        }
        engine_->report_passive_failure(*key, *addr, port, passive_);
    }
}

json HealthDriver::status_reply() const { return health::to_json(engine_->status(), health::Clock::now()); }

}  // namespace dplb::server
