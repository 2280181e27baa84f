#include "control/health/service_health.hpp"

#include "control/health/names.hpp"

namespace dplb::health {

namespace {

// keepalived's log lines as events: the service's fields (and the real server's) first.
log::Event service_event(log::Level level, std::string_view name, const config::ServiceKey& key,
                         std::vector<log::Field> extra = {}) {
    log::Event e{level, name, {}};
    service_fields(e.fields, key);
    for (auto& f : extra) e.fields.push_back(std::move(f));
    return e;
}

log::Event real_event(log::Level level, std::string_view name, const config::ServiceKey& key,
                      const keepalived::RealServerHealth& real, std::vector<log::Field> extra = {}) {
    log::Event e{level, name, {}};
    real_fields(e.fields, key, real.address, real.port);
    for (auto& f : extra) e.fields.push_back(std::move(f));
    return e;
}

}  // namespace

ServiceHealth::ServiceHealth(keepalived::VirtualServerHealth config) : config_(std::move(config)) {
    reals_.reserve(config_.reals.size());
    for (const auto& r : config_.reals) {
        // Alpha: every checker starts failed (check_parser.c); a real server without
        // checkers has none failed and is up.
        auto failed = config_.alpha ? uint32_t(r.checkers.size()) : 0u;
        reals_.emplace_back(r.weight, r.inhibit_on_failure, failed);
    }
}

uint64_t ServiceHealth::alive_weight() const {
    uint64_t sum = 0;
    for (const auto& r : reals_) sum += r.alive_weight();
    return sum;
}

void ServiceHealth::keep_real(std::size_t i, const RealHealth& old) {
    const auto& c = config_.reals[i];
    reals_[i] = old;
    reals_[i].set_config(c.weight, c.inhibit_on_failure);
}

void ServiceHealth::inherit_published(std::size_t i, const RealHealth& old) { reals_[i].inherit_published(old); }

void ServiceHealth::keep_quorum(const ServiceHealth& old) {
    quorum_up_ = old.quorum_up_;
    sorry_active_ = old.sorry_active_;
}

void ServiceHealth::start(HealthOutput& out) {
    for (std::size_t i = 0; i < reals_.size(); ++i) {
        const auto& c = config_.reals[i];
        if (auto e = reals_[i].take_effect(config_.key, c.address, c.port)) {
            out.reals.push_back(*e);
            if (e->state != RealState::up)
                out.log.push_back(real_event(log::Level::notice, "real_server_down_at_start", config_.key, c,
                                             {{"action", e->state == RealState::inhibited ? "disabled" : "not_added"}}));
        }
    }
    // A reload dropped the sorry server while it was in: the real servers come back
    // (clear_diff_s_srv).
    if (sorry_active_ && !config_.sorry_server) {
        sorry_active_ = false;
        out.sorry.push_back(SorryEffect{config_.key, false});
    }
    update_quorum(true, out);
}

void ServiceHealth::checker_event(std::size_t i, CheckerEvent event, HealthOutput& out) {
    bool was_up = reals_[i].up();
    switch (event) {
        case CheckerEvent::none: return;
        case CheckerEvent::went_down: reals_[i].checker_went_down(); break;
        case CheckerEvent::went_up: reals_[i].checker_went_up(); break;
        case CheckerEvent::confirmed_down:
            // The state was down already; keepalived only notifies it (update_svr_checker_state).
            notify_real(i, out);
            return;
    }
    settle(i, was_up, out);
}

void ServiceHealth::set_dynamic_weight(std::size_t i, std::optional<uint32_t> w, HealthOutput& out) {
    if (reals_[i].dynamic_weight() == w) return;
    const auto& c = config_.reals[i];
    // MISC_CHECK's dynamic weight: a script may move it at every check, so rate-limited.
    auto e = real_event(log::Level::info, "real_server_weight_changed", config_.key, c,
                        {{"from", reals_[i].weight()}, {"to", w.value_or(c.weight)}, {"active", reals_[i].up()}});
    e.limited = true;
    out.log.push_back(std::move(e));
    bool was_up = reals_[i].up();
    reals_[i].set_dynamic_weight(w);
    settle(i, was_up, out);
}

void ServiceHealth::set_passive_down(std::size_t i, bool down, HealthOutput& out) {
    if (reals_[i].passive_down() == down) return;
    bool was_up = reals_[i].up();
    reals_[i].set_passive_down(down);
    settle(i, was_up, out);
}

void ServiceHealth::settle(std::size_t i, bool was_up, HealthOutput& out) {
    const auto& c = config_.reals[i];
    bool up = reals_[i].up();
    if (auto e = reals_[i].take_effect(config_.key, c.address, c.port)) out.reals.push_back(*e);
    if (up != was_up) {
        // perform_svr_state's log line.
        // A flapping server must not flood the journal: rate-limited per event name.
        bool inhibit = c.inhibit_on_failure;
        auto e = real_event(up ? log::Level::notice : log::Level::warning, up ? "real_server_up" : "real_server_down",
                            config_.key, c,
                            {{"action", up ? (inhibit ? "enabled" : "added") : (inhibit ? "disabled" : "removed")},
                             {"passive", reals_[i].passive_down()}});
        e.limited = true;
        out.log.push_back(std::move(e));
        notify_real(i, out);
    }
    update_quorum(false, out);
}

void ServiceHealth::update_quorum(bool init, HealthOutput& out) {
    uint64_t sum = alive_weight();
    int64_t quorum = config_.quorum, hysteresis = config_.hysteresis;
    if (!quorum_up_ && int64_t(sum) >= quorum + hysteresis) {
        quorum_up_ = true;
        out.log.push_back(service_event(log::Level::notice, "quorum_gained", config_.key,
                                        {{"quorum", quorum}, {"hysteresis", hysteresis}, {"alive_weight", sum}}));
        if (sorry_active_) {
            out.log.push_back(service_event(log::Level::notice, "sorry_server_removed", config_.key));
            sorry_active_ = false;
            out.sorry.push_back(SorryEffect{config_.key, false});
        }
        notify_quorum(out);
        return;
    }
    bool lost = quorum_up_ && (sum == 0 || int64_t(sum) < quorum - hysteresis);
    bool start_down = init && !quorum_up_ && config_.sorry_server && !sorry_active_;
    if (!lost && !start_down) return;
    quorum_up_ = false;
    out.log.push_back(service_event(log::Level::warning, "quorum_lost", config_.key,
                                    {{"quorum", quorum}, {"hysteresis", hysteresis}, {"alive_weight", sum},
                                     {"at_start", init}}));
    if (config_.sorry_server && !sorry_active_) {
        out.log.push_back(service_event(log::Level::warning, "sorry_server_added", config_.key));
        sorry_active_ = true;
        out.sorry.push_back(SorryEffect{config_.key, true});
    }
    notify_quorum(out);
}

void ServiceHealth::notify_real(std::size_t i, HealthOutput& out) const {
    const auto& c = config_.reals[i];
    bool up = reals_[i].up();
    out.notices.push_back(Notice{up ? c.notify_up : c.notify_down, "RS " + rs_name(config_.key, c.address, c.port) +
                                                                     " " + vs_name(config_.key) + (up ? " UP" : " DOWN")});
}

void ServiceHealth::notify_quorum(HealthOutput& out) const {
    out.notices.push_back(Notice{quorum_up_ ? config_.quorum_up : config_.quorum_down,
                                 "VS " + vs_name(config_.key) + (quorum_up_ ? " UP" : " DOWN")});
}

void ServiceHealth::stop(HealthOutput& out) {
    if (!config_.omega) return;
    for (std::size_t i = 0; i < reals_.size(); ++i) {
        // With the sorry server in, the alive real servers are out of the table already and
        // keepalived's clear_service_rs skips them.
        if (!reals_[i].up() || sorry_active_) continue;
        const auto& c = config_.reals[i];
        out.log.push_back(real_event(log::Level::info, "real_server_shut_down", config_.key, c));
        out.notices.push_back(Notice{c.notify_down, "RS " + rs_name(config_.key, c.address, c.port) + " " +
                                                        vs_name(config_.key) + " DOWN"});
    }
    quorum_up_ = false;
    notify_quorum(out);
}

void ServiceHealth::replay(HealthOutput& out) const {
    for (std::size_t i = 0; i < reals_.size(); ++i) {
        const auto& c = config_.reals[i];
        RealEffect e = reals_[i].effect(config_.key, c.address, c.port);
        if (e.state != RealState::up || e.weight) out.reals.push_back(e);
    }
    if (sorry_active_) out.sorry.push_back(SorryEffect{config_.key, true});
}

}  // namespace dplb::health
