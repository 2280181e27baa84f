#include "control/server/controller.hpp"

#include <limits>

#include "control/api/connections.hpp"
#include "control/api/mutations.hpp"
#include "control/api/queries.hpp"
#include "control/api/request_members.hpp"
#include "model/config_find.hpp"
#include "model/connections.hpp"
#include "codec/json_parse.hpp"
#include "codec/connections_json.hpp"

namespace dplb::server {

using model::Error;
using nlohmann::json;
namespace link = dplb::dataplane_link;

namespace {

// A string member of a reply from the dataplane, which is trusted for nothing.
std::string reason(const json& reply) {
    auto it = reply.find("error");
    return it != reply.end() && it->is_string() ? it->get<std::string>() : std::string("no reason given");
}

json error_reply(const Error& e) {
    json r{{"ok", false}, {"error", e.str()}};
    if (!e.field.empty()) r["field"] = e.field;
    return r;
}

std::string known_commands() {
    return "add-service, edit-service, delete-service, clear, add-real, edit-real, delete-real, add-laddr, "
           "delete-laddr, get-laddr, add-port-group, delete-port-group, get-port-groups, list, connections, "
           "get-config, replace-config, set-timeouts, zero, status";
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

Controller::Controller(config::Config initial, state::StateFile state, link::DataplaneLink& link, Logger log)
    : config_(std::move(initial)), state_(std::move(state)), link_(link), log_(std::move(log)) {}

json Controller::handle_line(std::string_view line) {
    auto request = model::parse_json(line);
    if (!request) return error_reply(request.error());
    return handle(*request);
}

json Controller::handle(const json& request) {
    if (!request.is_object()) return error_reply(Error{"", "a request must be a JSON object"});
    json reply;
    auto cmd = request.find("cmd");
    if (cmd == request.end()) reply = error_reply(Error{"cmd", "missing member 'cmd'"});
    else if (!cmd->is_string()) reply = error_reply(model::type_error("cmd", "a string", *cmd));
    else reply = dispatch(cmd->get<std::string>(), request);
    if (auto id = request.find("id"); id != request.end()) reply["id"] = *id;
    return reply;
}

json Controller::dispatch(const std::string& cmd, const json& request) {
    if (api::is_mutation(cmd)) {
        if (cmd == "replace-config")
            if (auto e = check_if_generation(request, generation_)) return error_reply(*e);
        auto next = api::apply_mutation(config_, request);
        if (!next) return error_reply(next.error());
        return change(*next);
    }
    if (cmd == "list" || cmd == "get-laddr" || cmd == "zero") return query(cmd, request);
    if (cmd == "connections") return connections_reply(request);
    if (cmd == "get-port-groups") {
        auto mark = read_optional_mark(config_, request);
        if (!mark) return error_reply(mark.error());
        return api::get_port_groups_reply(config_, *mark);
    }
    if (cmd == "get-config" || cmd == "status") {
        if (auto e = api::read_no_members(request)) return error_reply(*e);
        return cmd == "status" ? status_reply() : api::get_config_reply(config_, generation_);
    }
    return error_reply(Error{"cmd", "unknown command '" + cmd + "' (expected one of: " + known_commands() + ")"});
}

json Controller::query(const std::string& cmd, const json& request) {
    auto only = api::read_optional_service(config_, request);
    if (!only) return error_reply(only.error());
    if (cmd == "get-laddr") return api::get_laddr_reply(config_, *only);
    auto stats = fetch_stats();
    if (cmd == "zero") {
        if (stats) baselines_.zero(*stats, *only);
        else baselines_.forget(*only);  // nothing to subtract from: counters show 0 anyway
        rates_.zero(*only);
        return json{{"ok", true}, {"dataplane", dataplane_state()}};
    }
    if (!stats) return api::list_reply(config_, *only, nullptr, &rates_);
    auto adjusted = baselines_.subtract(*stats);
    return api::list_reply(config_, *only, &adjusted, &rates_);
}

json Controller::connections_reply(const json& request) {
    auto q = api::read_connections_query(config_, request);
    if (!q) return error_reply(q.error());
    if (!link_.connected()) return error_reply(Error{"", "the dataplane is not connected: no connection table to show"});
    auto reply = link_.call(api::dataplane_connections_request(*q));
    if (!reply) return error_reply(Error{"", reply.error().message});
    if (!(*reply)["ok"].get<bool>()) return error_reply(Error{"", "dataplane refused connections: " + reason(*reply)});
    auto list = model::connections_reply_from_json(*reply);
    if (!list) return error_reply(Error{"", "dataplane connections reply: " + list.error().str()});
    return api::connections_reply(*list, config_, *q);
}

json Controller::change(const config::Config& next) {
    auto temp = state_.prepare(next);
    if (!temp) return error_reply(temp.error());
    bool pushed = false;
    if (link_.connected()) {
        auto res = link::push_config(link_, next, generation_ + 1);
        switch (res.outcome) {
            case link::PushOutcome::applied: pushed = true; break;
            case link::PushOutcome::rejected: state_.abandon(*temp); return error_reply(res.error);
            case link::PushOutcome::unreachable:
                // Accepted as when disconnected: the reconnection pushes it.
                log_("dataplane lost during push: " + res.error.message);
                break;
        }
    }
    if (auto e = state_.commit(*temp)) {
        if (pushed) {
            // The dataplane runs `next`, which is neither on disk nor in memory: take it back.
            auto undo = link::push_config(link_, config_, generation_ + 2);
            if (undo.outcome != link::PushOutcome::applied)
                log_("could not restore the previous configuration on the dataplane: " + undo.error.message);
            generation_ += 2;
        }
        log_(e->message);
        return error_reply(*e);
    }
    config_ = next;
    ++generation_;
    if (pushed) last_push_error_.clear();
    baselines_.retain(config_);
    rates_.retain(config_);
    return json{{"ok", true}, {"dataplane", dataplane_state()}, {"generation", generation_}};
}

void Controller::on_dataplane_connected() {
    log_("dataplane connected on " + link_.socket_path() + "; pushing generation " + std::to_string(generation_));
    auto res = link::push_config(link_, config_, generation_);
    switch (res.outcome) {
        case link::PushOutcome::applied: last_push_error_.clear(); break;
        case link::PushOutcome::rejected:
            // It keeps running what it had; operators see this in `status` and the log.
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

json Controller::sample_request() { return json{{"cmd", "stats"}}; }

void Controller::on_stats_sample(const model::Result<json>& reply, std::chrono::steady_clock::time_point now) {
    if (auto snap = decode_stats(reply)) rates_.sample(*snap, now);
}

json Controller::status_reply() {
    json r{{"ok", true}, {"generation", generation_}, {"services", config_.services.size()}};
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

const char* Controller::dataplane_state() const { return link_.connected() ? "connected" : "disconnected"; }

}  // namespace dplb::server
