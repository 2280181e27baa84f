#include "tools/dplbadm/options.hpp"

#include <array>

namespace dplb::dplbadm {

using model::Error;

namespace {

constexpr Spec cmd(const char* l, char s, Cmd c, Arg a = Arg::none) { return Spec{l, s, true, int(c), a}; }
constexpr Spec opt(const char* l, char s, Opt o, Arg a = Arg::none) { return Spec{l, s, false, int(o), a}; }

// ipvsadm(8)'s spellings, DPVS's for local addresses (-P/-Q/-G/-z, -b), then dplb's own.
constexpr std::array specs{
    cmd("add-service", 'A', Cmd::add_service),
    cmd("edit-service", 'E', Cmd::edit_service),
    cmd("delete-service", 'D', Cmd::delete_service),
    cmd("clear", 'C', Cmd::clear),
    cmd("add-server", 'a', Cmd::add_real),
    cmd("edit-server", 'e', Cmd::edit_real),
    cmd("delete-server", 'd', Cmd::delete_real),
    cmd("list", 'L', Cmd::list),
    cmd("list", 'l', Cmd::list),
    cmd("zero", 'Z', Cmd::zero),
    cmd("save", 'S', Cmd::save),
    cmd("restore", 'R', Cmd::restore),
    cmd("set", 0, Cmd::set_timeouts),
    cmd("add-laddr", 'P', Cmd::add_laddr),
    cmd("del-laddr", 'Q', Cmd::del_laddr),
    cmd("get-laddr", 'G', Cmd::get_laddr),
    cmd("add-mark", 0, Cmd::add_mark),
    cmd("del-mark", 0, Cmd::del_mark),
    cmd("get-mark", 0, Cmd::get_mark),
    cmd("status", 0, Cmd::status),
    cmd("import-keepalived", 0, Cmd::import_keepalived),  // FILE: a positional argument
    cmd("health", 0, Cmd::health),
    cmd("help", 'h', Cmd::help),
    cmd("start-daemon", 0, Cmd::start_daemon, Arg::required),  // master|backup
    cmd("stop-daemon", 0, Cmd::stop_daemon, Arg::required),
    opt("tcp-service", 't', Opt::tcp, Arg::required),
    opt("udp-service", 'u', Opt::udp, Arg::required),
    opt("fwmark-service", 'f', Opt::fwmark, Arg::required),
    opt("scheduler", 's', Opt::scheduler, Arg::required),
    opt("persistent", 'p', Opt::persistent, Arg::optional),
    opt("netmask", 'M', Opt::netmask, Arg::required),
    opt("sched-flags", 0, Opt::sched_flags, Arg::required),  // -b after -A/-E, see below
    opt("mh-table-size", 0, Opt::mh_table_size, Arg::required),
    opt("expire-nodest-conn", 0, Opt::expire_nodest_conn),
    opt("real-server", 'r', Opt::real, Arg::required),
    opt("masquerading", 'm', Opt::masq),
    opt("fullnat", 0, Opt::fullnat),  // -b after other commands, see below
    opt("gatewaying", 'g', Opt::gatewaying),
    opt("ipip", 'i', Opt::ipip),
    opt("weight", 'w', Opt::weight, Arg::required),
    opt("u-threshold", 'x', Opt::uthreshold, Arg::required),
    opt("l-threshold", 'y', Opt::lthreshold, Arg::required),
    opt("numeric", 'n', Opt::numeric),
    opt("connection", 'c', Opt::connection),
    opt("stats", 0, Opt::stats),
    opt("rate", 0, Opt::rate),
    opt("thresholds", 0, Opt::thresholds),
    opt("persistent-conn", 0, Opt::persistent_conn),
    opt("sort", 0, Opt::sort),
    opt("nosort", 0, Opt::nosort),
    opt("exact", 'X', Opt::exact),
    opt("timeout", 0, Opt::timeout),
    opt("laddr", 'z', Opt::laddr, Arg::required),
    opt("socket", 0, Opt::socket, Arg::required),
    opt("json", 0, Opt::json),
    opt("daemon", 0, Opt::daemon),
    opt("mcast-interface", 0, Opt::mcast_interface, Arg::required),
    opt("syncid", 0, Opt::syncid, Arg::required),
    opt("sync-maxlen", 0, Opt::sync_maxlen, Arg::required),
    opt("mcast-group", 0, Opt::mcast_group, Arg::required),
    opt("mcast-port", 0, Opt::mcast_port, Arg::required),
    opt("mcast-ttl", 0, Opt::mcast_ttl, Arg::required),
    opt("sync-peer", 0, Opt::sync_peer, Arg::required),  // dplb's: repeatable
};

// Options that may be given more than once; each value counts.
bool repeatable(Opt o) { return o == Opt::sync_peer; }

// ipvsadm options dplb does not implement: a clear message rather than "unknown option".
const std::map<std::string, std::string> unsupported{
    {"-o", "one-packet scheduling"},        {"--ops", "one-packet scheduling"},
    {"--pe", "persistence engines"},
    {"-6", "IPv6"},                         {"--ipv6", "IPv6"},
};

const Spec* find_long(std::string_view name) {
    for (const auto& s : specs)
        if (name == s.long_name) return &s;
    return nullptr;
}

const Spec* find_opt(Opt o) {
    for (const auto& s : specs)
        if (!s.is_command && Opt(s.id) == o) return &s;
    return nullptr;
}

// -b: scheduler flags on -A/-E (ipvsadm), FULLNAT on real servers (DPVS).
const Spec* find_short(char c, Cmd current) {
    if (c == 'b')
        return find_opt(current == Cmd::add_service || current == Cmd::edit_service ? Opt::sched_flags : Opt::fullnat);
    for (const auto& s : specs)
        if (s.short_name == c) return &s;
    return nullptr;
}

model::Status take(Parsed& p, const Spec& s, std::string shown, std::string value) {
    if (s.is_command) {
        if (p.cmd != Cmd::none && p.cmd_spec != &s) return Error{"", "multiple commands specified"};
        p.cmd = Cmd(s.id);
        p.cmd_spec = &s;
        p.cmd_value = std::move(value);
        return std::nullopt;
    }
    Opt o = Opt(s.id);
    if (p.given.contains(o) && !repeatable(o)) return Error{"", "multiple " + shown + " options specified"};
    p.given[o] = &s;
    if (repeatable(o)) p.repeated[o].push_back(value);
    p.values[o] = std::move(value);
    return std::nullopt;
}

model::Status unsupported_error(const std::string& option) {
    auto it = unsupported.find(option);
    if (it == unsupported.end()) return Error{"", "unknown option '" + option + "'"};
    return Error{"", "option " + option + " (" + it->second + ") is not supported"};
}

// popt's rule for an optional value given as the next word: taken unless it looks like an option.
bool takes_next_as_value(const std::vector<std::string>& args, std::size_t i) {
    return i + 1 < args.size() && !args[i + 1].starts_with("-");
}

}  // namespace

std::string spelling(const Spec& s) {
    if (!s.is_command && (Opt(s.id) == Opt::sched_flags || Opt(s.id) == Opt::fullnat)) return "-b";
    return s.short_name ? std::string("-") + s.short_name : std::string("--") + s.long_name;
}

std::string spelling(Opt o) {
    const Spec* s = find_opt(o);
    return s ? spelling(*s) : "?";
}

model::Result<Parsed> tokenize(const std::vector<std::string>& args) {
    Parsed p;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.starts_with("--")) {
            auto eq = a.find('=');
            std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            const Spec* s = find_long(name);
            if (!s) return *unsupported_error("--" + name);
            std::string value;
            if (s->arg == Arg::none && eq != std::string::npos) return Error{"", "option --" + name + " takes no value"};
            if (eq != std::string::npos) value = a.substr(eq + 1);
            else if (s->arg == Arg::required && i + 1 < args.size()) value = args[++i];
            else if (s->arg == Arg::required) return Error{"", "option --" + name + " needs a value"};
            else if (s->arg == Arg::optional && takes_next_as_value(args, i)) value = args[++i];
            if (auto e = take(p, *s, "--" + name, value)) return *e;
            continue;
        }
        if (a.size() >= 2 && a[0] == '-' && (a[1] < '0' || a[1] > '9')) {
            // Clustered short options as popt accepts them: -Ln, -at VIP:PORT, -w3.
            for (std::size_t k = 1; k < a.size(); ++k) {
                std::string shown = std::string("-") + a[k];
                const Spec* s = find_short(a[k], p.cmd);
                if (!s) return *unsupported_error(shown);
                std::string value;
                if (s->arg != Arg::none) {
                    if (k + 1 < a.size()) value = a.substr(k + 1);
                    else if (s->arg == Arg::required && i + 1 < args.size()) value = args[++i];
                    else if (s->arg == Arg::required) return Error{"", "option " + shown + " needs a value"};
                    else if (takes_next_as_value(args, i)) value = args[++i];
                    k = a.size();
                }
                if (auto e = take(p, *s, shown, value)) return *e;
            }
            continue;
        }
        p.positional.push_back(a);
    }
    return p;
}

}  // namespace dplb::dplbadm
