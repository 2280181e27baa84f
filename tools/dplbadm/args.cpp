#include "tools/dplbadm/args.hpp"

#include <array>
#include <map>
#include <optional>
#include <set>

#include "tools/dplbadm/addr_port.hpp"

namespace dplb::dplbadm {

using model::Error;
using nlohmann::json;

namespace {

enum class Cmd { none, add_service, edit_service, delete_service, clear, add_real, edit_real, delete_real,
                 list, zero, add_laddr, del_laddr, get_laddr, status, set_timeouts, help };

enum class Opt { tcp, udp, scheduler, real, masq, fullnat, gatewaying, ipip, weight, uthreshold, lthreshold,
                 numeric, stats, exact, timeout, laddr, socket, json };

struct Spec {
    const char* long_name;
    char short_name;  // 0 = long only
    bool is_command;
    int id;           // Cmd or Opt
    bool takes_arg;
};

// ipvsadm(8)'s spellings, DPVS's for local addresses (-P/-Q/-G/-z, -b), then dplb's own.
constexpr std::array<Spec, 34> specs{{
    {"add-service", 'A', true, int(Cmd::add_service), false},
    {"edit-service", 'E', true, int(Cmd::edit_service), false},
    {"delete-service", 'D', true, int(Cmd::delete_service), false},
    {"clear", 'C', true, int(Cmd::clear), false},
    {"add-server", 'a', true, int(Cmd::add_real), false},
    {"edit-server", 'e', true, int(Cmd::edit_real), false},
    {"delete-server", 'd', true, int(Cmd::delete_real), false},
    {"list", 'L', true, int(Cmd::list), false},
    {"list", 'l', true, int(Cmd::list), false},
    {"zero", 'Z', true, int(Cmd::zero), false},
    {"set", 0, true, int(Cmd::set_timeouts), false},
    {"add-laddr", 'P', true, int(Cmd::add_laddr), false},
    {"del-laddr", 'Q', true, int(Cmd::del_laddr), false},
    {"get-laddr", 'G', true, int(Cmd::get_laddr), false},
    {"status", 0, true, int(Cmd::status), false},
    {"help", 'h', true, int(Cmd::help), false},
    {"tcp-service", 't', false, int(Opt::tcp), true},
    {"udp-service", 'u', false, int(Opt::udp), true},
    {"scheduler", 's', false, int(Opt::scheduler), true},
    {"real-server", 'r', false, int(Opt::real), true},
    {"masquerading", 'm', false, int(Opt::masq), false},
    {"fullnat", 'b', false, int(Opt::fullnat), false},
    {"gatewaying", 'g', false, int(Opt::gatewaying), false},
    {"ipip", 'i', false, int(Opt::ipip), false},
    {"weight", 'w', false, int(Opt::weight), true},
    {"u-threshold", 'x', false, int(Opt::uthreshold), true},
    {"l-threshold", 'y', false, int(Opt::lthreshold), true},
    {"numeric", 'n', false, int(Opt::numeric), false},
    {"stats", 0, false, int(Opt::stats), false},
    {"exact", 'X', false, int(Opt::exact), false},
    {"timeout", 0, false, int(Opt::timeout), false},
    {"laddr", 'z', false, int(Opt::laddr), true},
    {"socket", 0, false, int(Opt::socket), true},
    {"json", 0, false, int(Opt::json), false},
}};

// ipvsadm options dplb does not implement yet: a clear message rather than "unknown option".
const std::map<std::string, std::string> not_yet{
    {"-f", "fwmark services"},         {"--fwmark-service", "fwmark services"},
    {"-p", "persistence"},             {"--persistent", "persistence"},
    {"-M", "persistence netmasks"},    {"--netmask", "persistence netmasks"},
    {"-o", "one-packet scheduling"},   {"--ops", "one-packet scheduling"},
    {"-c", "connection listing"},      {"--connection", "connection listing"},
    {"-S", "save (use --json with -L, or get-config on the socket)"},
    {"--save", "save (use --json with -L, or get-config on the socket)"},
    {"-R", "restore (use replace-config on the socket)"},
    {"--restore", "restore (use replace-config on the socket)"},
    {"--start-daemon", "connection sync daemons"}, {"--stop-daemon", "connection sync daemons"},
    {"-6", "IPv6"},                    {"--ipv6", "IPv6"},
    {"--rate", "rate counters"},       {"--thresholds", "threshold listing"},
    {"--persistent-conn", "persistence"},
};

const Spec* find_long(std::string_view name) {
    for (const auto& s : specs)
        if (name == s.long_name) return &s;
    return nullptr;
}

const Spec* find_short(char c) {
    for (const auto& s : specs)
        if (s.short_name == c) return &s;
    return nullptr;
}

std::string spelling(const Spec& s) {
    return s.short_name ? std::string("-") + s.short_name : std::string("--") + s.long_name;
}

// Which options each command takes ('+' required, ' ' optional); the rest are refused, as
// ipvsadm's commands_v_options table does.
struct Allowed {
    std::set<Opt> required;
    std::set<Opt> optional;
};

const std::set<Opt> forward_opts{Opt::masq, Opt::fullnat, Opt::gatewaying, Opt::ipip};
const std::set<Opt> global_opts{Opt::socket, Opt::json};

Allowed allowed_for(Cmd c) {
    switch (c) {
        case Cmd::add_service:
        case Cmd::edit_service: return {{}, {Opt::scheduler}};
        case Cmd::delete_service: return {};
        case Cmd::add_real:
        case Cmd::edit_real:
            return {{Opt::real},
                    {Opt::masq, Opt::fullnat, Opt::gatewaying, Opt::ipip, Opt::weight, Opt::uthreshold,
                     Opt::lthreshold}};
        case Cmd::delete_real: return {{Opt::real}, {}};
        case Cmd::list: return {{}, {Opt::numeric, Opt::stats, Opt::exact, Opt::timeout}};
        case Cmd::add_laddr:
        case Cmd::del_laddr: return {{Opt::laddr}, {}};
        case Cmd::get_laddr: return {{}, {Opt::numeric}};
        default: return {};
    }
}

// Commands that address one service: required, optional, or not at all.
enum class ServiceArg { required, optional, none };
ServiceArg service_arg(Cmd c) {
    switch (c) {
        case Cmd::add_service:
        case Cmd::edit_service:
        case Cmd::delete_service:
        case Cmd::add_real:
        case Cmd::edit_real:
        case Cmd::delete_real:
        case Cmd::add_laddr:
        case Cmd::del_laddr: return ServiceArg::required;
        case Cmd::list:
        case Cmd::zero:
        case Cmd::get_laddr: return ServiceArg::optional;
        default: return ServiceArg::none;
    }
}

struct Parsed {
    Cmd cmd = Cmd::none;
    const Spec* cmd_spec = nullptr;
    std::map<Opt, std::string> values;   // option -> argument ("" for flags)
    std::map<Opt, const Spec*> given;    // option -> how it was spelt, for messages
    std::vector<std::string> positional;
};

model::Status take(Parsed& p, const Spec& s, std::string value) {
    if (s.is_command) {
        if (p.cmd != Cmd::none && p.cmd_spec != &s) return Error{"", "multiple commands specified"};
        p.cmd = Cmd(s.id);
        p.cmd_spec = &s;
        return std::nullopt;
    }
    Opt o = Opt(s.id);
    bool service = o == Opt::tcp || o == Opt::udp;
    if (service && (p.given.contains(Opt::tcp) || p.given.contains(Opt::udp)))
        return Error{"", "multiple service addresses specified (-t/-u)"};
    if (forward_opts.contains(o))
        for (Opt f : forward_opts)
            if (p.given.contains(f)) return Error{"", "multiple forwarding methods specified (-m/-b/-g/-i)"};
    if (p.given.contains(o)) return Error{"", "multiple " + spelling(s) + " options specified"};
    p.given[o] = &s;
    p.values[o] = std::move(value);
    return std::nullopt;
}

model::Result<Parsed> tokenize(const std::vector<std::string>& args) {
    Parsed p;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (auto it = not_yet.find(a.substr(0, a.find('='))); it != not_yet.end())
            return Error{"", "option " + it->first + " (" + it->second + ") is not supported yet"};
        if (a.starts_with("--")) {
            auto eq = a.find('=');
            std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            const Spec* s = find_long(name);
            if (!s) return Error{"", "unknown option '" + a + "'"};
            std::string value;
            if (s->takes_arg) {
                if (eq != std::string::npos) value = a.substr(eq + 1);
                else if (i + 1 < args.size()) value = args[++i];
                else return Error{"", "option --" + name + " needs a value"};
            } else if (eq != std::string::npos) {
                return Error{"", "option --" + name + " takes no value"};
            }
            if (auto e = take(p, *s, value)) return *e;
            continue;
        }
        if (a.size() >= 2 && a[0] == '-' && (a[1] < '0' || a[1] > '9')) {
            // Clustered short options as popt accepts them: -Ln, -at VIP:PORT, -w3.
            for (std::size_t k = 1; k < a.size(); ++k) {
                const Spec* s = find_short(a[k]);
                if (!s) {
                    std::string opt = std::string("-") + a[k];
                    if (auto it = not_yet.find(opt); it != not_yet.end())
                        return Error{"", "option " + opt + " (" + it->second + ") is not supported yet"};
                    return Error{"", "unknown option '" + opt + "'"};
                }
                std::string value;
                if (s->takes_arg) {
                    if (k + 1 < a.size()) value = a.substr(k + 1);
                    else if (i + 1 < args.size()) value = args[++i];
                    else return Error{"", "option -" + std::string(1, a[k]) + " needs a value"};
                    k = a.size();
                }
                if (auto e = take(p, *s, value)) return *e;
            }
            continue;
        }
        p.positional.push_back(a);
    }
    return p;
}

model::Status check_options(const Parsed& p) {
    Allowed allowed = allowed_for(p.cmd);
    std::string cmd = spelling(*p.cmd_spec);
    for (const auto& [o, s] : p.given) {
        if (o == Opt::tcp || o == Opt::udp) {
            if (service_arg(p.cmd) == ServiceArg::none)
                return Error{"", "option " + spelling(*s) + " is not allowed with " + cmd};
            continue;
        }
        if (!global_opts.contains(o) && !allowed.required.contains(o) && !allowed.optional.contains(o))
            return Error{"", "option " + spelling(*s) + " is not allowed with " + cmd};
    }
    if (service_arg(p.cmd) == ServiceArg::required && !p.given.contains(Opt::tcp) && !p.given.contains(Opt::udp))
        return Error{"", cmd + " needs a service: -t|-u VIP:PORT"};
    for (Opt o : allowed.required)
        if (!p.given.contains(o))
            for (const auto& s : specs)
                if (!s.is_command && Opt(s.id) == o) return Error{"", cmd + " needs " + spelling(s)};
    if (p.cmd != Cmd::set_timeouts && !p.positional.empty())
        return Error{"", "unexpected argument '" + p.positional.front() + "'"};
    return std::nullopt;
}

model::Result<json> service_key(const Parsed& p) {
    bool tcp = p.given.contains(Opt::tcp);
    const std::string& text = p.values.at(tcp ? Opt::tcp : Opt::udp);
    auto ap = parse_addr_port(text, "service address");
    if (!ap) return ap.error();
    if (!ap->port)
        return Error{"", "invalid service address '" + text + "': a port is required (VIP:PORT); port 0 "
                         "services need persistence, which is not supported yet"};
    return json{{"protocol", tcp ? "tcp" : "udp"}, {"address", ap->address}, {"port", *ap->port}};
}

// -r RIP[:PORT] and the attributes of -a / -e. On -e only what is given is sent, so the
// rest keeps its value (ipvsadm would reset an omitted -w to 1 and the method to -g).
model::Result<json> real_server(const Parsed& p, const json& key, bool adding, bool address_only) {
    auto ap = parse_addr_port(p.values.at(Opt::real), "real server address");
    if (!ap) return ap.error();
    json rs{{"address", ap->address}, {"port", ap->port ? *ap->port : key["port"].get<uint16_t>()}};
    if (address_only) return rs;
    static const std::map<Opt, const char*> forward{
        {Opt::masq, "nat"}, {Opt::fullnat, "fullnat"}, {Opt::gatewaying, "dr"}, {Opt::ipip, "tunnel"}};
    bool any_forward = false;
    for (const auto& [o, name] : forward)
        if (p.given.contains(o)) {
            rs["forward"] = name;
            any_forward = true;
        }
    if (adding && !any_forward) rs["forward"] = "dr";  // ipvsadm's default: -g
    if (p.given.contains(Opt::weight)) {
        auto w = parse_number(p.values.at(Opt::weight), 0, 65535, "weight");
        if (!w) return w.error();
        rs["weight"] = *w;
    } else if (adding) {
        rs["weight"] = 1;
    }
    for (auto [o, name] : {std::pair{Opt::uthreshold, "upper_threshold"}, std::pair{Opt::lthreshold, "lower_threshold"}}) {
        if (!p.given.contains(o)) continue;
        auto t = parse_number(p.values.at(o), 0, 2147483647, o == Opt::uthreshold ? "u-threshold" : "l-threshold");
        if (!t) return t.error();
        rs[name] = *t;
    }
    return rs;
}

model::Result<json> timeouts(const Parsed& p) {
    if (p.positional.size() != 3) return Error{"", "--set needs 3 timeout values: tcp tcpfin udp"};
    json t = json::object();
    const char* names[] = {"tcp", "tcp_fin", "udp"};
    for (int i = 0; i < 3; ++i) {
        auto v = parse_number(p.positional[std::size_t(i)], 0, 31536000, std::string("timeout ") + names[i]);
        if (!v) return v.error();
        if (*v != 0) t[names[i]] = *v;  // 0 = leave unchanged, as in ipvsadm
    }
    return t;
}

}  // namespace

model::Result<Invocation> parse_args(const std::vector<std::string>& args) {
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
                return Error{"", "no command specified (one of -A -E -D -C -a -e -d -L -Z --set --add-laddr "
                                 "--del-laddr --get-laddr --status)"};
        if (!p.positional.empty()) return Error{"", "unexpected argument '" + p.positional.front() + "'"};
        inv.output = Output::list;
        inv.request = json{{"cmd", "list"}};
        return inv;
    }
    if (auto e = check_options(p)) return *e;

    json key;
    if (p.given.contains(Opt::tcp) || p.given.contains(Opt::udp)) {
        auto k = service_key(p);
        if (!k) return k.error();
        key = *k;
    }
    json& rq = inv.request;
    switch (p.cmd) {
        case Cmd::add_service:
        case Cmd::edit_service: {
            json svc = key;
            if (p.given.contains(Opt::scheduler)) svc["scheduler"] = p.values.at(Opt::scheduler);
            else if (p.cmd == Cmd::add_service) svc["scheduler"] = "wlc";  // ipvsadm's default
            rq = {{"cmd", p.cmd == Cmd::add_service ? "add-service" : "edit-service"}, {"service", svc}};
            break;
        }
        case Cmd::delete_service: rq = {{"cmd", "delete-service"}, {"service", key}}; break;
        case Cmd::clear: rq = {{"cmd", "clear"}}; break;
        case Cmd::add_real:
        case Cmd::edit_real:
        case Cmd::delete_real: {
            auto rs = real_server(p, key, p.cmd == Cmd::add_real, p.cmd == Cmd::delete_real);
            if (!rs) return rs.error();
            const char* name = p.cmd == Cmd::add_real ? "add-real" : p.cmd == Cmd::edit_real ? "edit-real" : "delete-real";
            rq = {{"cmd", name}, {"service", key}, {"real_server", *rs}};
            break;
        }
        case Cmd::list:
            inv.list.stats = p.given.contains(Opt::stats);
            inv.list.exact = p.given.contains(Opt::exact);
            inv.list.one_service = !key.is_null();
            if (p.given.contains(Opt::timeout)) {
                if (inv.list.stats || inv.list.one_service)
                    return Error{"", "--timeout cannot be combined with --stats or a service"};
                inv.output = Output::timeouts;
                rq = {{"cmd", "get-config"}};
                return inv;
            }
            inv.output = Output::list;
            rq = {{"cmd", "list"}};
            if (!key.is_null()) rq["service"] = key;
            return inv;
        case Cmd::zero:
            rq = {{"cmd", "zero"}};
            if (!key.is_null()) rq["service"] = key;
            break;
        case Cmd::add_laddr:
        case Cmd::del_laddr: {
            auto lip = parse_addr_port(p.values.at(Opt::laddr), "local address");
            if (!lip) return lip.error();
            if (lip->port) return Error{"", "invalid local address '" + p.values.at(Opt::laddr) + "': no port expected"};
            rq = {{"cmd", p.cmd == Cmd::add_laddr ? "add-laddr" : "delete-laddr"}, {"service", key},
                  {"address", lip->address}};
            break;
        }
        case Cmd::get_laddr:
            inv.output = Output::laddrs;
            rq = {{"cmd", "get-laddr"}};
            if (!key.is_null()) rq["service"] = key;
            return inv;
        case Cmd::status:
            inv.output = Output::status;
            rq = {{"cmd", "status"}};
            return inv;
        case Cmd::set_timeouts: {
            auto t = timeouts(p);
            if (!t) return t.error();
            rq = {{"cmd", "set-timeouts"}, {"timeouts", *t}};
            break;
        }
        case Cmd::none:
        case Cmd::help: break;
    }
    inv.output = Output::ack;
    return inv;
}

}  // namespace dplb::dplbadm
