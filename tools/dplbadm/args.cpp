#include "tools/dplbadm/args.hpp"

#include <algorithm>
#include <set>

#include "tools/dplbadm/addr_port.hpp"
#include "tools/dplbadm/options.hpp"
#include "tools/dplbadm/service_args.hpp"

namespace dplb::dplbadm {

using model::Error;
using nlohmann::json;

namespace {

// Which options each command takes ('+' required, ' ' optional in ipvsadm's
// commands_v_options table); the rest are refused. -t/-u/-f are handled by service_rule.
struct Allowed {
    std::set<Opt> required;
    std::set<Opt> optional;
};

const std::set<Opt> global_opts{Opt::socket, Opt::json};
const std::set<Opt> service_opts{Opt::tcp, Opt::udp, Opt::fwmark};

Allowed allowed_for(Cmd c) {
    switch (c) {
        case Cmd::add_service:
        case Cmd::edit_service:
            return {{},
                    {Opt::scheduler, Opt::persistent, Opt::netmask, Opt::sched_flags, Opt::mh_table_size,
                     Opt::expire_nodest_conn}};
        case Cmd::add_real:
        case Cmd::edit_real:
            return {{Opt::real},
                    {Opt::masq, Opt::fullnat, Opt::gatewaying, Opt::ipip, Opt::weight, Opt::uthreshold,
                     Opt::lthreshold}};
        case Cmd::delete_real: return {{Opt::real}, {}};
        case Cmd::list:
            return {{},
                    {Opt::numeric, Opt::connection, Opt::stats, Opt::rate, Opt::thresholds, Opt::persistent_conn,
                     Opt::exact, Opt::timeout, Opt::sort, Opt::nosort, Opt::daemon}};
        case Cmd::save: return {{}, {Opt::numeric, Opt::nosort}};
        case Cmd::add_laddr:
        case Cmd::del_laddr: return {{Opt::laddr}, {}};
        case Cmd::get_laddr: return {{}, {Opt::numeric}};
        case Cmd::start_daemon:
            return {{Opt::mcast_interface},
                    {Opt::syncid, Opt::sync_maxlen, Opt::mcast_group, Opt::mcast_port, Opt::mcast_ttl, Opt::sync_peer}};
        default: return {};
    }
}

// How a command names a service.
enum class ServiceRule {
    required,   // -t|-u|-f, one of them
    optional,   // -t|-u|-f or nothing
    none,       // no service
    mark,       // --add-mark: -f MARK and -t|-u MATCH
    mark_opt,   // --del-mark: -f MARK, optionally -t|-u MATCH
    mark_only,  // --get-mark: optionally -f MARK
};

ServiceRule service_rule(Cmd c) {
    switch (c) {
        case Cmd::add_service:
        case Cmd::edit_service:
        case Cmd::delete_service:
        case Cmd::add_real:
        case Cmd::edit_real:
        case Cmd::delete_real:
        case Cmd::add_laddr:
        case Cmd::del_laddr: return ServiceRule::required;
        case Cmd::list:
        case Cmd::zero:
        case Cmd::get_laddr:
        case Cmd::set_timeouts: return ServiceRule::optional;
        case Cmd::add_mark: return ServiceRule::mark;
        case Cmd::del_mark: return ServiceRule::mark_opt;
        case Cmd::get_mark: return ServiceRule::mark_only;
        default: return ServiceRule::none;
    }
}

model::Status check_service_options(const Parsed& p, const std::string& cmd) {
    bool tcp = p.given.contains(Opt::tcp), udp = p.given.contains(Opt::udp), mark = p.given.contains(Opt::fwmark);
    if (tcp && udp) return Error{"", "multiple service addresses specified (-t/-u/-f)"};
    bool address = tcp || udp;
    switch (service_rule(p.cmd)) {
        case ServiceRule::required:
        case ServiceRule::optional:
            if (address && mark) return Error{"", "multiple service addresses specified (-t/-u/-f)"};
            if (service_rule(p.cmd) == ServiceRule::required && !address && !mark)
                return Error{"", cmd + " needs a service: -t|-u VIP:PORT or -f MARK"};
            return std::nullopt;
        case ServiceRule::mark:
            if (!mark || !address) return Error{"", cmd + " needs -f MARK and -t|-u VIP:PORT[-PORT]"};
            return std::nullopt;
        case ServiceRule::mark_opt:
            if (!mark) return Error{"", cmd + " needs -f MARK"};
            return std::nullopt;
        case ServiceRule::mark_only:
            if (address) return Error{"", "option " + spelling(*p.given.at(tcp ? Opt::tcp : Opt::udp)) +
                                              " is not allowed with " + cmd};
            return std::nullopt;
        case ServiceRule::none:
            for (Opt o : service_opts)
                if (p.given.contains(o)) return Error{"", "option " + spelling(*p.given.at(o)) + " is not allowed with " + cmd};
            return std::nullopt;
    }
    return std::nullopt;
}

model::Status check_options(const Parsed& p) {
    Allowed allowed = allowed_for(p.cmd);
    std::string cmd = spelling(*p.cmd_spec);
    if (auto e = check_service_options(p, cmd)) return e;
    for (const auto& [o, s] : p.given) {
        if (service_opts.contains(o) || global_opts.contains(o)) continue;
        if (!allowed.required.contains(o) && !allowed.optional.contains(o))
            return Error{"", "option " + spelling(*s) + " is not allowed with " + cmd};
    }
    for (Opt o : allowed.required)
        if (!p.given.contains(o)) return Error{"", cmd + " needs " + spelling(o)};
    if (p.cmd != Cmd::set_timeouts && p.cmd != Cmd::import_keepalived && !p.positional.empty())
        return Error{"", "unexpected argument '" + p.positional.front() + "'"};
    return std::nullopt;
}

// -L and its variants; ipvsadm's rules on which listing options go together.
model::Status list_request(const Parsed& p, const json& key, Invocation& inv) {
    ListFormat& f = inv.list;
    f.stats = p.given.contains(Opt::stats);
    f.rate = p.given.contains(Opt::rate);
    f.thresholds = p.given.contains(Opt::thresholds);
    f.persistent_conn = p.given.contains(Opt::persistent_conn);
    f.exact = p.given.contains(Opt::exact);
    f.sort = !p.given.contains(Opt::nosort);
    f.one_service = !key.is_null();
    bool connections = p.given.contains(Opt::connection), timeout = p.given.contains(Opt::timeout);
    if (p.given.contains(Opt::daemon)) {
        // ipvsadm -L --daemon lists the sync daemons and nothing else.
        for (const auto& [o, s] : p.given)
            if (o != Opt::daemon && o != Opt::numeric && !global_opts.contains(o))
                return Error{"", "--daemon cannot be combined with " + spelling(*s)};
        inv.output = Output::daemons;
        inv.request = {{"cmd", "get-sync-daemons"}};
        return std::nullopt;
    }
    if (connections && timeout) return Error{"", "-c and --timeout cannot be combined"};
    if ((connections || timeout) && (f.stats || f.rate || f.thresholds || f.persistent_conn))
        return Error{"", std::string(connections ? "-c" : "--timeout") +
                             " cannot be combined with --stats, --rate, --thresholds or --persistent-conn"};
    json& rq = inv.request;
    if (timeout) {
        inv.output = Output::timeouts;
        rq = {{"cmd", "get-config"}};
    } else if (connections) {
        inv.output = Output::connections;
        rq = {{"cmd", "connections"}};
    } else {
        inv.output = Output::list;
        rq = {{"cmd", "list"}};
    }
    if (!key.is_null() && !timeout) rq["service"] = key;
    return std::nullopt;
}

// --add-mark / --del-mark / --get-mark.
model::Status mark_request(const Parsed& p, Invocation& inv) {
    std::optional<uint32_t> mark;
    if (p.given.contains(Opt::fwmark)) {
        auto m = parse_fwmark(p.values.at(Opt::fwmark));
        if (!m) return m.error();
        mark = *m;
    }
    std::optional<json> match;
    if (p.given.contains(Opt::tcp) || p.given.contains(Opt::udp)) {
        auto m = port_match(p);
        if (!m) return m.error();
        match = *m;
    }
    json& rq = inv.request;
    switch (p.cmd) {
        case Cmd::add_mark:
            rq = {{"cmd", "add-port-group"}, {"port_group", {{"mark", *mark}, {"matches", json::array({*match})}}}};
            break;
        case Cmd::del_mark:
            rq = {{"cmd", "delete-port-group"}, {"mark", *mark}};
            if (match) rq["match"] = *match;
            break;
        default:
            inv.output = Output::port_groups;
            rq = {{"cmd", "get-port-groups"}};
            if (mark) rq["mark"] = *mark;
    }
    return std::nullopt;
}

model::Result<json> laddr_address(const Parsed& p) {
    auto lip = parse_addr_port(p.values.at(Opt::laddr), "local address");
    if (!lip) return lip.error();
    if (lip->port) return Error{"", "invalid local address '" + p.values.at(Opt::laddr) + "': no port expected"};
    return json(lip->address);
}

model::Result<std::string> daemon_state(const Parsed& p) {
    if (p.cmd_value == "master" || p.cmd_value == "backup") return p.cmd_value;
    return Error{"", "invalid sync daemon state '" + p.cmd_value + "' for " + spelling(*p.cmd_spec) +
                         " (expected master or backup)"};
}

// --start-daemon STATE and its options as ipvsadm spells them (numbers in ipvsadm's ranges;
// dplb-control checks the rest), plus dplb's --sync-peer ADDR (repeatable). Members not given
// are left out: dplb-control's defaults are ipvsadm's.
model::Result<json> sync_daemon(const Parsed& p) {
    auto state = daemon_state(p);
    if (!state) return state.error();
    json d{{"state", *state}, {"mcast_interface", p.values.at(Opt::mcast_interface)}};
    struct Number {
        Opt opt;
        const char* member;
        uint64_t min, max;
    };
    for (const Number& n : {Number{Opt::syncid, "syncid", 0, 255}, Number{Opt::sync_maxlen, "sync_maxlen", 1, 65535 - 20 - 8},
                            Number{Opt::mcast_port, "mcast_port", 1, 65535}, Number{Opt::mcast_ttl, "mcast_ttl", 1, 255}}) {
        if (!p.given.contains(n.opt)) continue;
        auto v = parse_number(p.values.at(n.opt), n.min, n.max, spelling(n.opt));
        if (!v) return v.error();
        d[n.member] = *v;
    }
    auto address = [&](Opt o, const std::string& text) -> model::Result<std::string> {
        auto a = parse_addr_port(text, spelling(o));
        if (!a) return a.error();
        if (a->port) return Error{"", "invalid " + spelling(o) + " '" + text + "': no port expected"};
        return a->address;
    };
    if (p.given.contains(Opt::mcast_group)) {
        auto g = address(Opt::mcast_group, p.values.at(Opt::mcast_group));
        if (!g) return g.error();
        d["mcast_group"] = *g;
    }
    if (p.repeated.contains(Opt::sync_peer)) {
        json peers = json::array();
        for (const auto& text : p.repeated.at(Opt::sync_peer)) {
            auto a = address(Opt::sync_peer, text);
            if (!a) return a.error();
            peers.push_back(*a);
        }
        d["peers"] = std::move(peers);
    }
    return d;
}

const char* real_cmd(Cmd c) {
    return c == Cmd::add_real ? "add-real" : c == Cmd::edit_real ? "edit-real" : "delete-real";
}

}  // namespace

model::Result<Invocation> parse_args(const std::vector<std::string>& args) {
    // --capture has its own options (-f is a filter there, -c a count, -w a file).
    if (std::find(args.begin(), args.end(), "--capture") != args.end()) {
        auto c = parse_capture_options(args);
        if (!c) return c.error();
        Invocation inv;
        inv.output = Output::capture;
        inv.capture = *c;
        for (std::size_t i = 0; i + 1 < args.size(); ++i)
            if (args[i] == "--socket") inv.socket = args[i + 1];
        return inv;
    }
    auto parsed = tokenize(args);
    if (!parsed) return parsed.error();
    Parsed& p = *parsed;
    Invocation inv;
    if (p.given.contains(Opt::socket)) inv.socket = p.values.at(Opt::socket);
    inv.raw_json = p.given.contains(Opt::json);
    if (p.cmd == Cmd::help) {
        inv.output = Output::help;
        return inv;
    }
    if (p.cmd == Cmd::none) {
        // Bare `ipvsadm` lists the table.
        for (const auto& [o, spec] : p.given)
            if (!global_opts.contains(o))
                return Error{"", "no command specified (one of -A -E -D -C -R -S -a -e -d -L -Z --set --add-laddr "
                                 "--del-laddr --get-laddr --add-mark --del-mark --get-mark --status --start-daemon "
                                 "--stop-daemon)"};
        if (!p.positional.empty()) return Error{"", "unexpected argument '" + p.positional.front() + "'"};
        inv.output = Output::list;
        inv.request = json{{"cmd", "list"}};
        return inv;
    }
    if (auto e = check_options(p)) return *e;

    ServiceArg svc;
    bool names_service = service_rule(p.cmd) == ServiceRule::required || service_rule(p.cmd) == ServiceRule::optional;
    if (names_service && (p.given.contains(Opt::tcp) || p.given.contains(Opt::udp) || p.given.contains(Opt::fwmark))) {
        auto s = service_arg(p);
        if (!s) return s.error();
        svc = *s;
    }
    const json& key = svc.key;
    inv.service = key;
    json& rq = inv.request;
    inv.output = Output::ack;
    switch (p.cmd) {
        case Cmd::add_service:
        case Cmd::edit_service: {
            json service = key;
            if (auto e = service_attributes(p, p.cmd == Cmd::edit_service, service)) return *e;
            rq = {{"cmd", p.cmd == Cmd::add_service ? "add-service" : "edit-service"}, {"service", service}};
            break;
        }
        case Cmd::delete_service: rq = {{"cmd", "delete-service"}, {"service", key}}; break;
        case Cmd::clear: rq = {{"cmd", "clear"}}; break;
        case Cmd::add_real:
        case Cmd::edit_real:
        case Cmd::delete_real: {
            auto rs = real_server(p, svc.port, p.cmd == Cmd::add_real, p.cmd == Cmd::delete_real);
            if (!rs) return rs.error();
            rq = {{"cmd", real_cmd(p.cmd)}, {"service", key}, {"real_server", *rs}};
            break;
        }
        case Cmd::list:
            if (auto e = list_request(p, key, inv)) return *e;
            break;
        case Cmd::zero:
            rq = {{"cmd", "zero"}};
            if (!key.is_null()) rq["service"] = key;
            break;
        case Cmd::save:
            inv.output = Output::save;
            inv.list.sort = !p.given.contains(Opt::nosort);
            rq = {{"cmd", "get-config"}};
            break;
        case Cmd::restore: inv.output = Output::restore; break;
        case Cmd::add_laddr:
        case Cmd::del_laddr: {
            auto lip = laddr_address(p);
            if (!lip) return lip.error();
            rq = {{"cmd", p.cmd == Cmd::add_laddr ? "add-laddr" : "delete-laddr"}, {"service", key}, {"address", *lip}};
            break;
        }
        case Cmd::get_laddr:
            inv.output = Output::laddrs;
            rq = {{"cmd", "get-laddr"}};
            if (!key.is_null()) rq["service"] = key;
            break;
        case Cmd::add_mark:
        case Cmd::del_mark:
        case Cmd::get_mark:
            if (auto e = mark_request(p, inv)) return *e;
            break;
        case Cmd::status:
            inv.output = Output::status;
            rq = {{"cmd", "status"}};
            break;
        case Cmd::health:
            inv.output = Output::health;
            rq = {{"cmd", "health"}};
            break;
        case Cmd::set_timeouts: {
            auto t = timeouts(p);
            if (!t) return t.error();
            rq = {{"cmd", "set-timeouts"}, {"timeouts", *t}};
            if (!key.is_null()) rq["service"] = key;
            break;
        }
        case Cmd::import_keepalived:
            if (p.positional.size() != 1)
                return Error{"", "--import-keepalived needs exactly one file (keepalived.conf)"};
            inv.output = Output::import_keepalived;
            inv.file = p.positional.front();
            break;
        case Cmd::start_daemon: {
            auto d = sync_daemon(p);
            if (!d) return d.error();
            rq = {{"cmd", "start-sync-daemon"}, {"daemon", *d}};
            break;
        }
        case Cmd::stop_daemon: {
            auto state = daemon_state(p);
            if (!state) return state.error();
            rq = {{"cmd", "stop-sync-daemon"}, {"state", *state}};
            break;
        }
        case Cmd::none:
        case Cmd::help: break;
    }
    return inv;
}

}  // namespace dplb::dplbadm
