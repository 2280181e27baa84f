// dplbadm: ipvsadm for dplb. Parses the command line into one request, sends it to
// dplb-control and prints the reply the way ipvsadm would. -R is the exception: it reads
// rules from stdin, applies them to the current configuration here, and replaces the
// configuration with the result in one request; --import-keepalived does the same with the
// virtual_server blocks of a keepalived.conf.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/config_json.hpp"
#include "control/keepalived/parse.hpp"
#include "dplb/api.hpp"
#include "tools/dplbadm/args.hpp"
#include "tools/dplbadm/client.hpp"
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/restore.hpp"

using namespace dplb;
using nlohmann::json;

namespace {

constexpr int exit_request_error = 1;
constexpr int exit_usage = 2;

int fail(int status, const std::string& message) {
    std::fprintf(stderr, "dplbadm: %s\n", message.c_str());
    return status;
}

void warn_if_disconnected(const json& reply) {
    // Like ipvsadm, a change prints nothing, except that it did not reach the dataplane yet.
    if (reply.is_object() && reply.contains("dataplane") && reply["dataplane"] == "disconnected")
        std::fprintf(stderr, "dplbadm: warning: dataplane not connected; the change is saved and will be pushed "
                             "when it connects\n");
}

model::Result<config::Config> config_of(const json& get_config_reply) {
    if (!get_config_reply.contains("config")) return model::Error{"", "malformed reply from dplb-control: no config"};
    auto c = model::config_from_json(get_config_reply["config"], "config");
    if (!c) return model::Error{"", "malformed reply from dplb-control: " + c.error().str()};
    return c;
}

model::Result<std::string> render(const dplbadm::Invocation& inv, const json& reply) {
    switch (inv.output) {
        case dplbadm::Output::list: return dplbadm::format_list(reply, inv.list);
        case dplbadm::Output::timeouts: return dplbadm::format_timeouts(reply, inv.service);
        case dplbadm::Output::connections:
            if (reply.value("truncated", false))
                std::fprintf(stderr, "dplbadm: warning: not every connection is listed (there are more than the "
                                     "limit of the connections request)\n");
            return dplbadm::format_connections(reply);
        case dplbadm::Output::save: {
            auto c = config_of(reply);
            if (!c) return c.error();
            // ipvsadm's rules have no sorry server: say what the saved rules leave out.
            for (const auto& s : c->services)
                if (s.sorry_server)
                    std::fprintf(stderr, "dplbadm: warning: %s: its sorry server %s:%u is not saved (ipvsadm rules have "
                                         "none; it comes from the keepalived.conf)\n",
                                 dplbadm::ipvsadm_service_name(s.key).c_str(), s.sorry_server->address.str().c_str(),
                                 unsigned(s.sorry_server->port));
            return dplbadm::format_save(*c, inv.list.sort);
        }
        case dplbadm::Output::laddrs: return dplbadm::format_laddrs(reply);
        case dplbadm::Output::port_groups: return dplbadm::format_port_groups(reply);
        case dplbadm::Output::status: return dplbadm::format_status(reply);
        case dplbadm::Output::health: return dplbadm::format_health(reply);
        case dplbadm::Output::daemons: return dplbadm::format_daemons(reply);
        default: break;
    }
    warn_if_disconnected(reply);
    return std::string();
}

// -R: all rules or none, as one `batch` request: dplb-control checks each rule against the
// configuration as the rules before it leave it and applies all or nothing, so a change made
// by someone else in between is never overwritten. Its error names the rule by its index in
// the batch ("requests[17].real_server.weight: ..."), which is turned back into the line.
int restore(const std::string& socket) {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto rules = dplbadm::parse_rules(text);
    if (!rules) return fail(exit_request_error, rules.error().str());
    // Deliberately never freed: the process ends right after, and freeing the objects of
    // 90,000 rules one by one costs a good part of a large -R (the line numbers stay in rules).
    auto* batch = new json{{"cmd", "batch"}, {"requests", json::array()}};
    json& requests = (*batch)["requests"];
    for (auto& r : *rules) requests.push_back(std::move(r.request));
    auto reply = dplbadm::call_control(socket, *batch);
    if (!reply) return fail(exit_request_error, reply.error().str());
    if (reply->contains("ok") && (*reply)["ok"] == true) {
        warn_if_disconnected(*reply);
        return 0;
    }
    std::string error = "request failed", field;
    if (auto e = reply->find("error"); e != reply->end() && e->is_string()) error = e->get<std::string>();
    if (auto f = reply->find("field"); f != reply->end() && f->is_string()) field = f->get<std::string>();
    return fail(exit_request_error, dplbadm::name_rule_line(*rules, field, error));
}

std::string reply_error(const json& reply, const char* otherwise) {
    auto e = reply.find("error");
    return e != reply.end() && e->is_string() ? e->get<std::string>() : std::string(otherwise);
}

// --import-keepalived FILE: dplb-control reads the file (all or nothing) and makes it the
// table and the checked set, as `--keepalived-conf` at its start; the file's path is sent
// absolute, so SIGHUP reloads the same file later. The file is parsed here first too, so
// its errors and warnings are reported even when dplb-control is an older one.
int import_keepalived(const std::string& socket, const std::string& file) {
    auto parsed = keepalived::parse_keepalived(file);
    if (!parsed) return fail(exit_request_error, parsed.error().str());
    std::error_code ec;
    auto absolute = std::filesystem::absolute(file, ec);
    json request{{"cmd", "load-keepalived"}, {"path", ec ? file : absolute.string()}};
    auto reply = dplbadm::call_control(socket, request);
    if (!reply) return fail(exit_request_error, reply.error().str());
    if (!reply->contains("ok") || (*reply)["ok"] != true) {
        std::string error = reply_error(*reply, "load-keepalived failed");
        if (auto f = reply->find("field"); f != reply->end() && f->is_string() && !f->get<std::string>().empty())
            error = f->get<std::string>() + ": " + error;
        return fail(exit_request_error, error);
    }
    warn_if_disconnected(*reply);
    for (const auto& w : reply->value("warnings", json::array()))
        if (w.is_string()) std::fprintf(stderr, "dplbadm: warning: %s\n", w.get<std::string>().c_str());
    std::size_t checkers = 0;
    for (const auto& h : parsed->health)
        for (const auto& r : h.reals) checkers += r.checkers.size();
    std::fprintf(stderr, "dplbadm: imported %zu virtual server(s) from %s (%zu changes); %zu checker(s) running\n",
                 parsed->services.size(), file.c_str(), std::size_t(reply->value("changes", 0)), checkers);
    if (parsed->sync_daemons && !parsed->sync_daemons->empty()) {
        const auto& d = parsed->sync_daemons->front();
        std::fprintf(stderr, "dplbadm: lvs_sync_daemon: a master and a backup sync daemon on %s, syncid %u (dplbadm -L "
                             "--daemon)\n", d.mcast_interface.c_str(), unsigned(d.syncid));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    auto inv = dplbadm::parse_args(std::vector<std::string>(argv + 1, argv + argc));
    if (!inv) return fail(exit_usage, inv.error().str() + " (try dplbadm --help)");
    if (inv->output == dplbadm::Output::help) {
        std::fputs(dplbadm::usage().c_str(), stdout);
        return 0;
    }
    std::string socket = inv->socket;
    if (socket.empty()) {
        const char* env = std::getenv("DPLB_CONTROL_SOCKET");
        socket = env && *env ? env : api::default_control_socket;
    }
    if (inv->output == dplbadm::Output::restore) return restore(socket);
    if (inv->output == dplbadm::Output::import_keepalived) return import_keepalived(socket, inv->file);
    if (inv->output == dplbadm::Output::capture) return dplbadm::run_capture(socket, inv->capture);
    auto reply = dplbadm::call_control(socket, inv->request);
    if (!reply) return fail(exit_request_error, reply.error().str());
    bool ok = reply->contains("ok") && (*reply)["ok"] == true;
    if (inv->raw_json) {
        std::puts(reply->dump().c_str());
        return ok ? 0 : exit_request_error;
    }
    if (!ok) {
        auto err = reply->find("error");
        return fail(exit_request_error, err != reply->end() && err->is_string() ? err->get<std::string>()
                                                                                : std::string("request failed"));
    }
    auto text = render(*inv, *reply);
    if (!text) return fail(exit_request_error, text.error().str());
    std::fputs(text->c_str(), stdout);
    return 0;
}
