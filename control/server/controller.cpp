#include "control/server/controller.hpp"

#include <limits>

#include "control/api/connections.hpp"
#include "control/server/health_driver.hpp"
#include "control/api/mutations.hpp"
#include "control/api/queries.hpp"
#include "control/api/request_members.hpp"
#include "codec/change_json.hpp"
#include "codec/config_json.hpp"
#include "codec/json_reader.hpp"
#include "model/paths.hpp"
#include "model/runtime_state.hpp"
#include "model/config_find.hpp"
#include "model/connections.hpp"
#include "codec/json_parse.hpp"
#include "codec/connections_json.hpp"

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

std::string known_commands() {
    return "add-service, edit-service, delete-service, clear, add-real, edit-real, delete-real, add-laddr, "
           "delete-laddr, get-laddr, add-port-group, delete-port-group, get-port-groups, list, connections, "
           "get-config, replace-config, set-timeouts, batch, zero, status, health, load-keepalived, "
           "start-sync-daemon, stop-sync-daemon, get-sync-daemons";
}

// replace-config's optional precondition: the configuration is still the one the client read.
model::Status check_if_generation(const json& request, uint64_t generation) {
    auto it = request.find("if_generation");
    if (it == request.end()) return std::nullopt;
    uint64_t expected = 0;
    if (auto e = model::read_uint(*it, "if_generation", 0, std::numeric_limits<uint64_t>::max(), expected)) return e;
    if (expected == generation) return std::nullopt;
    return Error{"if_generation", "the configuration changed since generation " + std::to_string(expected) +
                                      " (it is now " + std::to_string(generation) + "); nothing was replaced"};
}

// A batch member's error, named under "requests[i]".
Error under(const std::string& path, Error e) {
    e.field = e.field.empty() ? path : model::member_path(path, e.field);
    return e;
}

// What a batch removes, for the counters' baselines and rates: some services, or (clear,
// replace) possibly any.
void note_removals(const model::Batch& b, std::vector<config::ServiceKey>& removed, bool& everything) {
    for (const auto& c : b.changes) {
        if (auto* d = std::get_if<model::DeleteService>(&c)) removed.push_back(d->key);
        if (std::holds_alternative<model::Clear>(c) || std::holds_alternative<model::ReplaceConfig>(c))
            everything = true;
    }
}

// get-port-groups: the optional `mark`, which must exist.
model::Result<std::optional<uint32_t>> read_optional_mark(const config::Config& c, const json& request) {
    auto r = api::request_reader(request);
    std::optional<uint32_t> mark;
    uint64_t v = 0;
    bool present = false;
    if (auto e = r.optional_uint("mark", 1, 4294967295, v, &present)) return *e;
    if (auto e = r.finish()) return *e;
    if (present) {
        mark = uint32_t(v);
        if (!model::find_port_group(c, *mark)) return Error{"mark", "no port group " + std::to_string(v)};
    }
    return mark;
}

}  // namespace

Controller::Controller(model::ConfigEditor initial, uint64_t generation, state::Store& store, link::DataplaneLink& link,
                       Logger log)
    : editor_(std::move(initial)),
      generation_(generation),
      config_generation_(generation),
      config_generation_durable_(generation),
      last_number_(generation),
      store_(store),
      link_(link),
      log_(std::move(log)) {}

json Controller::handle_line(std::string_view line) {
    if (auto reply = stage_line(line)) return *reply;
    json reply = complete_staged().back();
    release_retired();
    return reply;
}

json Controller::handle(const json& request) {
    if (auto reply = stage(request)) return *reply;
    json reply = complete_staged().back();
    release_retired();
    return reply;
}

std::optional<json> Controller::stage_line(std::string_view line) {
    auto request = model::parse_json(line);
    if (!request) {
        last_was_change_ = false;
        return error_reply(request.error());
    }
    auto reply = stage(*request);
    if (!reply) staged_.back().keep.push_back(std::make_shared<json>(std::move(*request)));
    return reply;
}

std::optional<json> Controller::stage(const json& request) {
    if (!request.is_object()) return error_reply(Error{"", "a request must be a JSON object"});
    std::optional<json> reply;
    auto cmd = request.find("cmd");
    last_was_change_ = cmd != request.end() && cmd->is_string() &&
                       (api::is_mutation(cmd->get_ref<const std::string&>()) ||
                        cmd->get_ref<const std::string&>() == "batch" ||
                        cmd->get_ref<const std::string&>() == "load-keepalived");
    if (cmd == request.end()) reply = error_reply(Error{"cmd", "missing member 'cmd'"});
    else if (!cmd->is_string()) reply = error_reply(model::type_error("cmd", "a string", *cmd));
    else reply = dispatch(cmd->get<std::string>(), request);
    auto id = request.find("id");
    if (id == request.end()) return reply;
    if (reply) (*reply)["id"] = *id;
    else staged_.back().reply["id"] = *id;
    return reply;
}

std::optional<json> Controller::dispatch(const std::string& cmd, const json& request) {
    if (api::is_mutation(cmd) || cmd == "batch") return stage_change(cmd, request);
    if (cmd == "load-keepalived") {
        auto r = api::request_reader(request);
        std::string path;
        if (auto e = r.required_string("path", path)) return error_reply(*e);
        if (auto e = r.finish()) return error_reply(*e);
        return stage_keepalived(path);
    }
    if (cmd == "health") return health_reply(request);
    const config::Config& config = editor_.config();
    if (cmd == "list" || cmd == "get-laddr" || cmd == "zero") return query(cmd, request);
    if (cmd == "connections") return connections_reply(request);
    if (cmd == "get-port-groups") {
        auto mark = read_optional_mark(config, request);
        if (!mark) return error_reply(mark.error());
        return api::get_port_groups_reply(config, *mark);
    }
    if (cmd == "get-config" || cmd == "status" || cmd == "get-sync-daemons") {
        if (auto e = api::read_no_members(request)) return error_reply(*e);
        if (cmd == "get-sync-daemons") return api::get_sync_daemons_reply(config);
        return cmd == "status" ? status_reply() : api::get_config_reply(config, config_generation_);
    }
    return error_reply(Error{"cmd", "unknown command '" + cmd + "' (expected one of: " + known_commands() + ")"});
}

json Controller::query(const std::string& cmd, const json& request) {
    const config::Config& config = editor_.config();
    auto only = api::read_optional_service(config, request);
    if (!only) return error_reply(only.error());
    if (cmd == "get-laddr") return api::get_laddr_reply(config, *only);
    auto stats = fetch_stats();
    if (cmd == "zero") {
        if (stats) baselines_.zero(*stats, *only);
        else baselines_.forget(*only);  // nothing to subtract from: counters show 0 anyway
        if (link_.connected()) {
            // The rate estimates live in the dataplane (as IPVS's in the kernel): restart them there.
            json zr{{"cmd", "zero-rates"}};
            if (*only) zr["service"] = model::key_to_json(**only);
            auto reply = link_.call(zr);
            if (!reply) log_(reply.error().message);
            else if (!(*reply)["ok"].get<bool>()) log_("dataplane refused zero-rates: " + reason(*reply));
        }
        return json{{"ok", true}, {"dataplane", dataplane_state()}};
    }
    if (!stats) return api::list_reply(config, *only, nullptr);
    auto adjusted = baselines_.subtract(*stats);
    return api::list_reply(config, *only, &adjusted);
}

json Controller::connections_reply(const json& request) {
    const config::Config& config = editor_.config();
    auto q = api::read_connections_query(config, request);
    if (!q) return error_reply(q.error());
    if (!link_.connected()) return error_reply(Error{"", "the dataplane is not connected: no connection table to show"});
    auto reply = link_.call(api::dataplane_connections_request(*q));
    if (!reply) return error_reply(Error{"", reply.error().message});
    if (!(*reply)["ok"].get<bool>()) return error_reply(Error{"", "dataplane refused connections: " + reason(*reply)});
    auto list = model::connections_reply_from_json(*reply);
    if (!list) return error_reply(Error{"", "dataplane connections reply: " + list.error().str()});
    return api::connections_reply(*list, config, *q);
}

model::Status Controller::apply_request(const std::string& cmd, const json& request, model::Batch& batch) {
    if (cmd != "batch") {
        if (cmd == "replace-config")
            if (auto e = check_if_generation(request, config_generation_)) return e;
        auto change = api::decode_change(editor_, request);
        if (!change) return change.error();
        if (auto e = editor_.apply(*change)) return e;
        batch.changes.push_back(std::move(*change));
        return std::nullopt;
    }
    // {"cmd":"batch","requests":[<change request>, ...]}: all of them or none.
    model::ObjectReader r(request, "");
    const json* list = nullptr;
    if (auto e = r.required("requests", list)) return e;
    r.get("cmd");
    r.get("id");
    if (auto e = r.finish()) return e;
    if (!list->is_array()) return model::type_error("requests", "an array", *list);
    for (std::size_t i = 0; i < list->size(); ++i) {
        const json& item = (*list)[i];
        const std::string path = model::index_path("requests", i);
        auto c = item.is_object() ? item.find("cmd") : item.end();
        if (c == item.end() || !c->is_string() || !api::is_mutation(c->get_ref<const std::string&>()))
            return Error{path + ".cmd", "a batch holds configuration changes only"};
        if (item.contains("id")) return Error{path + ".id", "a batch member has no id of its own (the batch's is used)"};
        if (c->get_ref<const std::string&>() == "replace-config")
            if (auto e = check_if_generation(item, config_generation_)) return under(path, *e);
        auto change = api::decode_change(editor_, item);
        if (!change) return under(path, change.error());
        if (auto e = editor_.apply(*change, path)) return e;
        batch.changes.push_back(std::move(*change));
    }
    return std::nullopt;
}

std::optional<json> Controller::stage_change(const std::string& cmd, const json& request) {
    if (!store_.healthy() && staged_.empty()) {
        // A failed fsync left the journal unusable: the state file, rewritten, starts it again.
        rewrite_store();
        if (!store_.healthy()) return error_reply(Error{"", "the state cannot be written; nothing was changed"});
    }
    const std::size_t mark = editor_.pending();
    model::Batch batch;
    if (auto e = apply_request(cmd, request, batch)) {
        editor_.rollback_to(mark);
        return error_reply(*e);
    }
    return stage_applied(std::move(batch), mark);
}

std::optional<json> Controller::stage_applied(model::Batch batch, std::size_t mark) {
    std::string changes = model::dump_line(model::to_json(batch));
    // The journal never holds runtime health state: after a restart the checker decides it again.
    std::string journaled = model::has_runtime_state(batch)
                                ? model::dump_line(model::to_json(batch, model::RuntimeState::omit))
                                : std::string();
    // A number never used before in this run, even by a change that was later taken back:
    // the dataplane's `base` check then never mistakes one configuration for another.
    const uint64_t next = ++last_number_;
    bool pushed = false;
    if (link_.connected()) {
        // A dataplane whose state is in doubt (a whole push it refused) gets the whole
        // configuration rather than a delta.
        bool whole = dataplane_in_doubt_;
        auto res = whole ? link::push_config(link_, editor_.config(), next)
                         : link::push_batch(link_, changes, generation_, next);
        if (res.outcome == link::PushOutcome::resync) {
            whole = true;
            res = link::push_config(link_, editor_.config(), next);
        }
        switch (res.outcome) {
            case link::PushOutcome::applied:
                pushed = true;
                dataplane_in_doubt_ = false;
                break;
            case link::PushOutcome::rejected:
            case link::PushOutcome::resync:
                // A refused delta leaves the dataplane where it was; a refused whole push
                // leaves it with whatever it had, which may not be generation_.
                if (whole) dataplane_in_doubt_ = true;
                editor_.rollback_to(mark);
                return error_reply(res.error);
            case link::PushOutcome::unreachable:
                // Accepted as when disconnected: the reconnection pushes it.
                log_("dataplane lost during push: " + res.error.message);
                break;
        }
    }
    if (auto e = store_.append(next, journaled.empty() ? changes : journaled)) {
        editor_.rollback_to(mark);
        if (pushed) resync_dataplane("the journal refused the change");
        if (!store_.healthy() && staged_.empty()) rewrite_store();
        log_(e->message);
        return error_reply(*e);
    }
    generation_ = next;
    config_generation_ = next;
    if (pushed) last_push_error_.clear();
    Staged st{json{{"ok", true}, {"dataplane", dataplane_state()}, {"generation", next}}, {}, false, {}};
    note_removals(batch, st.removed, st.removes_any);
    st.keep.push_back(std::make_shared<model::Batch>(std::move(batch)));
    st.keep.push_back(std::make_shared<std::string>(std::move(changes)));
    staged_.push_back(std::move(st));
    return std::nullopt;
}

std::vector<json> Controller::complete_staged() {
    std::vector<json> replies;
    if (staged_.empty()) return replies;
    auto staged = std::move(staged_);
    staged_.clear();
    for (auto& st : staged)
        for (auto& k : st.keep) retired_.push_back(std::move(k));
    if (auto e = store_.sync()) {
        // None of the turn's changes is durable: take all of them back, here and on the
        // dataplane, and rewrite the state file without them (the store cut them off the
        // journal, as far as a failing disk allows).
        log_(e->message);
        editor_.rollback();
        loading_.reset();
        config_generation_ = config_generation_durable_;
        resync_dataplane("the journal could not be made durable");
        rewrite_store();
        for (auto& s : staged) {
            json r = error_reply(*e);
            if (auto id = s.reply.find("id"); id != s.reply.end()) r["id"] = *id;
            replies.push_back(std::move(r));
        }
        return replies;
    }
    editor_.commit();
    config_generation_durable_ = config_generation_;
    requests_changed_config_ = true;
    if (loading_ && health_) {
        // The file's table is durable: its checkers are the checked set from now on.
        health_->adopt(std::move(loaded_keepalived_), std::move(*loading_), editor_.config());
    }
    loading_.reset();
    bool everything = false;
    for (auto& s : staged) {
        everything |= s.removes_any;
        if (!everything)
            for (const auto& key : s.removed) baselines_.forget(key);
        replies.push_back(std::move(s.reply));
    }
    if (everything) baselines_.retain(editor_.config());
    if (std::chrono::steady_clock::now() >= compact_not_before_) store_.maybe_compact(editor_.config(), generation_);
    return replies;
}

void Controller::poll_store() {
    if (auto e = store_.poll_compaction()) {
        // A full or failing disk: the journal keeps everything; try again later, not per change.
        log_("journal compaction failed (the journal is kept; retrying in a minute): " + e->message);
        compact_not_before_ = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    }
}

void Controller::resync_dataplane(const char* why) {
    // The dataplane may run a change we took back: the configuration gets a new number, so
    // nothing confuses the two.
    generation_ = ++last_number_;
    if (!link_.connected()) return;
    auto res = link::push_config(link_, editor_.config(), generation_);
    dataplane_in_doubt_ = res.outcome != link::PushOutcome::applied;
    if (dataplane_in_doubt_)
        log_(std::string(why) + "; could not restore the configuration on the dataplane: " + res.error.message);
}

void Controller::rewrite_store() {
    if (auto e = store_.write_snapshot(editor_.config(), generation_))
        log_("the state file cannot be rewritten (" + e->message + "); changes are refused until it can");
}

void Controller::on_dataplane_connected() {
    log_("dataplane connected on " + link_.socket_path() + "; pushing generation " + std::to_string(generation_));
    passive_refusal_logged_ = false;
    auto res = link::push_config(link_, editor_.config(), generation_);
    switch (res.outcome) {
        case link::PushOutcome::applied:
            last_push_error_.clear();
            dataplane_in_doubt_ = false;
            break;
        case link::PushOutcome::rejected:
        case link::PushOutcome::resync:  // (only batches are answered with resync)
            // It keeps running what it had; operators see this in `status` and the log. The
            // next change sends the whole configuration again.
            dataplane_in_doubt_ = true;
            last_push_error_ = res.error.message;
            log_(res.error.message);
            break;
        case link::PushOutcome::unreachable: log_("dataplane lost during push: " + res.error.message); break;
    }
}

std::optional<model::StatsSnapshot> Controller::fetch_stats() {
    if (!link_.connected()) return std::nullopt;
    return decode_stats(link_.call(json{{"cmd", "stats"}}));
}

std::optional<model::StatsSnapshot> Controller::decode_stats(const model::Result<json>& reply) {
    if (!reply) {
        log_(reply.error().message);
        return std::nullopt;
    }
    if (!(*reply)["ok"].get<bool>()) {
        log_("dataplane refused stats: " + reason(*reply));
        return std::nullopt;
    }
    auto snap = model::stats_reply_from_json(*reply);
    if (!snap) {
        log_("dataplane stats reply: " + snap.error().str());
        return std::nullopt;
    }
    return *snap;
}

json Controller::status_reply() {
    json r{{"ok", true}, {"generation", generation_}, {"config_generation", config_generation_},
           {"services", editor_.config().services.size()},
           {"sync_daemons", api::get_sync_daemons_reply(editor_.config())["sync_daemons"]}};
    if (!last_push_error_.empty()) r["last_push_error"] = last_push_error_;
    if (link_.connected()) {
        auto reply = link_.call(json{{"cmd", "status"}});
        if (reply && (*reply)["ok"].get<bool>()) {
            json st = *reply;
            st.erase("ok");
            r["dataplane_status"] = std::move(st);
        } else if (reply) {
            r["dataplane_error"] = reason(*reply);
        } else {
            log_(reply.error().message);
        }
    }
    r["dataplane"] = dataplane_state();
    return r;
}

// A string member of a reply from the dataplane, which is trusted for nothing.
std::string Controller::reason(const json& reply) {
    auto it = reply.find("error");
    return it != reply.end() && it->is_string() ? it->get<std::string>() : std::string("no reason given");
}

const char* Controller::dataplane_state() const { return link_.connected() ? "connected" : "disconnected"; }

}  // namespace dplb::server
