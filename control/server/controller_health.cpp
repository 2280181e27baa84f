// Controller: health checking's requests and effects (see health_driver.hpp).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "codec/change_json.hpp"
#include "codec/json_parse.hpp"
#include "control/api/request_members.hpp"
#include "control/keepalived/parse.hpp"
#include "control/server/controller.hpp"
#include "control/server/health_driver.hpp"
#include "model/config_diff.hpp"

namespace dplb::server {

using model::Error;
using nlohmann::json;
namespace link = dplb::dataplane_link;

namespace {

json error_reply(const Error& e) {
    json r{{"ok", false}, {"error", e.str()}};
    if (!e.field.empty()) r["field"] = e.field;
    return r;
}

// A keepalived.conf names scripts dplb-control runs (MISC_CHECK, notify_*, quorum_*) with its
// own rights, and any member of the control socket's group may ask for one to be loaded:
// only a file (and include) that only root or dplb-control's user can write is taken, and
// only one everybody may read, so that error messages quoting it reveal nothing.
model::Status check_trusted(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return Error{"path", file + ": " + std::strerror(errno)};
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        return Error{"path", file + ": not owned by root or by dplb-control's user: its scripts would run as them"};
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return Error{"path", file + ": writable by group or others: its scripts would run as dplb-control's user"};
    if (!(st.st_mode & S_IROTH)) return Error{"path", file + ": not readable by everybody (chmod o+r)"};
    return std::nullopt;
}

}  // namespace

std::optional<json> Controller::stage_keepalived(const std::string& path) {
    if (!health_) return error_reply(Error{"", "health checking is not available in this process"});
    if (!store_.healthy() && staged_.empty()) {
        rewrite_store();
        if (!store_.healthy()) return error_reply(Error{"", "the state cannot be written; nothing was changed"});
    }
    if (auto e = check_trusted(path)) return error_reply(*e);
    auto file = keepalived::parse_keepalived(path);
    if (!file) return error_reply(Error{"path", file.error().str()});
    for (const auto& f : file->files)
        if (auto e = check_trusted(f)) return error_reply(*e);
    auto target = keepalived::replacement_config(editor_.config(), *file);
    if (!target) return error_reply(Error{"path", target.error().str()});
    HealthDriver::seed_runtime(editor_.config(), *target, *file);

    const std::size_t mark = editor_.pending();
    model::Batch batch;
    auto diff = model::diff_config(editor_.config(), *target);
    if (diff) {
        for (std::size_t i = 0; i < diff->size(); ++i) {
            if (editor_.apply((*diff)[i])) {
                // A step the editor refuses in this order (a persistence rule between two
                // services, ...): the whole replacement instead, checked as a whole.
                editor_.rollback_to(mark);
                batch.changes.clear();
                break;
            }
            batch.changes.push_back(std::move((*diff)[i]));
        }
    }
    // Only when the difference cannot be expressed as changes: an empty diff means the table
    // is already the file's (in another order, which IPVS does not keep either).
    if (batch.changes.empty() && !(diff && diff->empty())) {
        model::Change whole = model::ReplaceConfig{*target};
        if (auto e = editor_.apply(whole)) {
            editor_.rollback_to(mark);
            return error_reply(Error{"path", path + ": " + e->str()});
        }
        batch.changes.push_back(std::move(whole));
    }
    json warnings = file->warnings;
    const std::size_t changes = batch.changes.size();
    std::error_code ec;
    auto absolute = std::filesystem::absolute(path, ec);
    // An earlier load of this turn that is staged too: its adoption is restored if this one fails.
    auto previous_path = std::move(loaded_keepalived_);
    auto previous = std::move(loading_);
    loaded_keepalived_ = ec ? path : absolute.string();
    loading_ = std::move(*file);
    if (batch.changes.empty()) {
        // Nothing to write: the table is already the file's; its checkers still take over.
        Staged st{json{{"ok", true}, {"dataplane", dataplane_state()}, {"generation", config_generation_}}, {}, false,
                  {}};
        st.reply["changes"] = 0;
        st.reply["warnings"] = std::move(warnings);
        staged_.push_back(std::move(st));
        return std::nullopt;
    }
    auto reply = stage_applied(std::move(batch), mark);
    if (reply) {
        loading_ = std::move(previous);
        loaded_keepalived_ = std::move(previous_path);
        return reply;
    }
    staged_.back().reply["changes"] = changes;
    staged_.back().reply["warnings"] = std::move(warnings);
    return std::nullopt;
}

json Controller::load_keepalived(const std::string& path) {
    if (auto reply = stage_keepalived(path)) return *reply;
    json reply = complete_staged().back();
    release_retired();
    apply_health();  // the new checked set's first decisions (alpha, ...)
    return reply;
}

json Controller::health_reply(const json& request) {
    if (auto e = api::read_no_members(request)) return error_reply(*e);
    if (!health_) return error_reply(Error{"", "health checking is not available in this process"});
    json r = health_->status_reply();
    r["keepalived_conf"] = health_->keepalived_path();
    return r;
}

void Controller::apply_health() {
    if (!health_ || !staged_.empty()) return;
    if (requests_changed_config_) {
        health_->follow(editor_.config());
        // A request may have brought back a server the checks hold down (delete + add, -C + -R):
        // the engine's verdicts again; those the table already shows are dropped below.
        health_->engine().replay_all_effects();
        requests_changed_config_ = false;
    }
    model::Batch batch;
    for (auto& c : health_->take_changes(editor_.config())) {
        if (auto e = editor_.apply(c)) {
            log_.error("health_change_invalid", {{"error", e->str()}});
            continue;
        }
        batch.changes.push_back(std::move(c));
    }
    if (batch.changes.empty()) return;
    // Runtime state: applied and pushed, not journaled (the checks find it again after a
    // restart), so it is committed at once.
    editor_.commit();
    const uint64_t next = ++last_number_;
    if (link_.connected()) {
        auto res = dataplane_in_doubt_ ? link::push_config(link_, editor_.config(), next)
                                       : link::push_batch(link_, model::dump_line(model::to_json(batch)), generation_, next);
        if (res.outcome == link::PushOutcome::resync) res = link::push_config(link_, editor_.config(), next);
        if (res.outcome == link::PushOutcome::applied) {
            dataplane_in_doubt_ = false;
            last_push_error_.clear();
        } else if (res.outcome != link::PushOutcome::unreachable) {
            // It keeps what it had; the next change (or a reconnection) sends the whole table.
            dataplane_in_doubt_ = true;
            last_push_error_ = res.error.message;
            log_.error("dataplane_refused", {{"cmd", "health"}, {"generation", next}, {"error", res.error.message}});
        }
    }
    generation_ = next;
}

void Controller::poll_passive() {
    if (!health_ || !health_->passive() || !link_.connected()) return;
    auto reply = link_.call(json{{"cmd", "passive-failures"}});
    if (!reply) {
        log_.warning("dataplane_request_failed", {{"cmd", "passive-failures"}, {"error", reply.error().message}});
        return;
    }
    if (!(*reply)["ok"].get<bool>()) {
        // A dataplane without passive checks (an older one) refuses every 500 ms: say it once
        // per connection, or --passive-check would do nothing without a word.
        if (!passive_refusal_logged_) {
            auto e = reply->find("error");
            log_.warning("passive_checks_inactive",
                         {{"cmd", "passive-failures"},
                          {"error", e != reply->end() && e->is_string() ? e->get<std::string>() : std::string("no reason given")}});
            passive_refusal_logged_ = true;
        }
        return;
    }
    passive_refusal_logged_ = false;
    health_->on_passive_failures(*reply, editor_.config());
}

}  // namespace dplb::server
