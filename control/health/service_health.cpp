#include "control/health/service_health.hpp"

#include "control/health/names.hpp"

namespace dplb::health {

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
                out.log.push_back(std::string(e->state == RealState::inhibited ? "Disabling" : "Not adding") +
                                  " service " + rs_name(config_.key, c.address, c.port) + " of VS " +
                                  vs_name(config_.key) + " (down at start)");
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
    out.log.push_back("Changing weight from " + std::to_string(reals_[i].weight()) + " to " +
                      std::to_string(w.value_or(c.weight)) + " for " + (reals_[i].up() ? "" : "in") +
                      "active service " + rs_name(config_.key, c.address, c.port) + " of VS " + vs_name(config_.key));
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
        bool inhibit = c.inhibit_on_failure;
        out.log.push_back(std::string(up ? (inhibit ? "Enabling" : "Adding") : (inhibit ? "Disabling" : "Removing")) +
                          " service " + rs_name(config_.key, c.address, c.port) + " " +
                          (inhibit ? "of" : up ? "to" : "from") + " VS " + vs_name(config_.key) +
                          (reals_[i].passive_down() ? " (passive check)" : ""));
        notify_real(i, out);
    }
    update_quorum(false, out);
}

void ServiceHealth::update_quorum(bool init, HealthOutput& out) {
    uint64_t sum = alive_weight();
    int64_t quorum = config_.quorum, hysteresis = config_.hysteresis;
    std::string numbers = std::to_string(quorum) + (quorum_up_ ? "-" : "+") + std::to_string(hysteresis) + "=" +
                          std::to_string(quorum_up_ ? quorum - hysteresis : quorum + hysteresis);
    if (!quorum_up_ && int64_t(sum) >= quorum + hysteresis) {
        quorum_up_ = true;
        out.log.push_back("Gained quorum " + numbers + " <= " + std::to_string(sum) + " for VS " + vs_name(config_.key));
        if (sorry_active_) {
            out.log.push_back("Removing sorry server from VS " + vs_name(config_.key));
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
    out.log.push_back(std::string(init ? "Starting with quorum down " : "Lost quorum ") + numbers + " > " +
                      std::to_string(sum) + " for VS " + vs_name(config_.key));
    if (config_.sorry_server && !sorry_active_) {
        out.log.push_back("Adding sorry server to VS " + vs_name(config_.key));
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
        out.log.push_back("Shutting down service " + rs_name(config_.key, c.address, c.port) + " from VS " +
                          vs_name(config_.key));
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
