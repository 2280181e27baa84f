#include "tools/dplbadm/service_args.hpp"

#include "model/validate.hpp"
#include "tools/dplbadm/addr_port.hpp"

namespace dplb::dplbadm {

using model::Error;
using nlohmann::json;

namespace {

constexpr uint64_t max_timeout = model::max_timeout;
constexpr uint64_t default_persistence_timeout = 300;  // ipvsadm's IPVS_SVC_PERSISTENT_TIMEOUT
constexpr uint64_t default_mh_table_size = 65537;

const char* protocol_of(const Parsed& p) { return p.given.contains(Opt::tcp) ? "tcp" : "udp"; }
const std::string& address_text(const Parsed& p) { return p.values.at(p.given.contains(Opt::tcp) ? Opt::tcp : Opt::udp); }

}  // namespace

model::Result<uint32_t> parse_fwmark(std::string_view text) {
    auto v = parse_number(text, 1, 4294967295, "fwmark");
    if (!v) return v.error();
    return uint32_t(*v);
}

model::Result<ServiceArg> service_arg(const Parsed& p) {
    if (p.given.contains(Opt::fwmark)) {
        auto mark = parse_fwmark(p.values.at(Opt::fwmark));
        if (!mark) return mark.error();
        return ServiceArg{json{{"fwmark", *mark}}, 0};
    }
    auto ap = parse_addr_port(address_text(p), "service address");
    if (!ap) return ap.error();
    uint16_t port = ap->port.value_or(0);
    return ServiceArg{json{{"protocol", protocol_of(p)}, {"address", ap->address}, {"port", port}}, port};
}

model::Result<json> sched_flags(std::string_view text, std::string_view scheduler) {
    json out = json::array();
    std::size_t start = 0;
    for (;;) {
        std::size_t comma = text.find(',', start);
        std::string flag(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        bool sh = scheduler == "sh", mh = scheduler == "mh";
        if (flag == "flag-1" || flag == "flag-2") {
            if (!sh && !mh)
                return Error{"", "scheduler flag '" + flag + "' means nothing to the " + std::string(scheduler) +
                                     " scheduler (only sh and mh have flags)"};
            flag = std::string(scheduler) + (flag == "flag-1" ? "-fallback" : "-port");
        } else if (flag == "flag-3") {
            return Error{"", "scheduler flag 'flag-3' means nothing to any dplb scheduler"};
        } else if (flag != "sh-fallback" && flag != "sh-port" && flag != "mh-fallback" && flag != "mh-port") {
            return Error{"", "invalid scheduler flag '" + flag +
                                 "' (expected sh-fallback, sh-port, mh-fallback, mh-port, flag-1 or flag-2)"};
        }
        out.push_back(flag);
        if (comma == std::string_view::npos) return out;
        start = comma + 1;
    }
}

model::Status service_attributes(const Parsed& p, bool editing, json& svc) {
    std::string scheduler = p.given.contains(Opt::scheduler) ? p.values.at(Opt::scheduler) : "wlc";
    svc["scheduler"] = scheduler;  // ipvsadm's default, for -A and -E alike
    if (p.given.contains(Opt::persistent)) {
        const std::string& t = p.values.at(Opt::persistent);
        uint64_t timeout = default_persistence_timeout;
        if (!t.empty()) {
            auto v = parse_number(t, 1, max_timeout, "persistence timeout");
            if (!v) return v.error();
            timeout = *v;
        }
        json pers{{"timeout", timeout}};
        if (p.given.contains(Opt::netmask)) {
            auto mask = parse_addr_port(p.values.at(Opt::netmask), "netmask");
            if (!mask || mask->port) return Error{"", "invalid netmask '" + p.values.at(Opt::netmask) + "'"};
            pers["netmask"] = mask->address;
        }
        svc["persistence"] = pers;
    } else if (p.given.contains(Opt::netmask)) {
        return Error{"", "-M (persistence granularity) needs -p (persistence)"};
    } else if (editing) {
        svc["persistence"] = nullptr;
    }
    if (p.given.contains(Opt::sched_flags)) {
        auto flags = sched_flags(p.values.at(Opt::sched_flags), scheduler);
        if (!flags) return flags.error();
        svc["sched_flags"] = *flags;
    } else if (editing) {
        svc["sched_flags"] = json::array();
    }
    if (p.given.contains(Opt::mh_table_size)) {
        auto size = parse_number(p.values.at(Opt::mh_table_size), 1, 4294967295, "mh table size");
        if (!size) return size.error();
        svc["mh_table_size"] = *size;
    } else if (editing) {
        svc["mh_table_size"] = default_mh_table_size;
    }
    if (p.given.contains(Opt::expire_nodest_conn))
        svc["expire_nodest_conn"] = true;
    else if (editing)
        svc["expire_nodest_conn"] = false;
    return std::nullopt;
}

model::Result<json> real_server(const Parsed& p, uint16_t service_port, bool adding, bool address_only) {
    auto ap = parse_addr_port(p.values.at(Opt::real), "real server address");
    if (!ap) return ap.error();
    json rs{{"address", ap->address}, {"port", ap->port.value_or(service_port)}};
    if (address_only) return rs;
    static const std::map<Opt, const char*> forward{
        {Opt::masq, "nat"}, {Opt::fullnat, "fullnat"}, {Opt::gatewaying, "dr"}, {Opt::ipip, "tunnel"}};
    bool any_forward = false;
    for (const auto& [o, name] : forward)
        if (p.given.contains(o)) {
            if (any_forward) return Error{"", "multiple forwarding methods specified (-m/-b/-g/-i)"};
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
        auto v = parse_number(p.positional[std::size_t(i)], 0, max_timeout, std::string("timeout ") + names[i]);
        if (!v) return v.error();
        if (*v != 0) t[names[i]] = *v;  // 0 = leave unchanged, as in ipvsadm
    }
    return t;
}

model::Result<json> port_match(const Parsed& p) {
    const std::string& text = address_text(p);
    auto bad = [&](const std::string& why) {
        return Error{"", "invalid port group match '" + text + "': " + why + " (expected VIP:PORT or VIP:FIRST-LAST)"};
    };
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad("no port");
    auto ap = parse_addr_port(text.substr(0, colon), "port group address");
    if (!ap || ap->port) return bad("'" + text.substr(0, colon) + "' is not a dotted-quad IPv4 address");
    std::string ports = text.substr(colon + 1);
    auto dash = ports.find('-');
    auto first = parse_number(ports.substr(0, dash), 1, 65535, "port");
    if (!first) return bad("'" + ports.substr(0, dash) + "' is not a port 1..65535");
    json m{{"protocol", protocol_of(p)}, {"address", ap->address}};
    if (dash == std::string::npos) {
        m["port"] = *first;
        return m;
    }
    auto last = parse_number(ports.substr(dash + 1), 1, 65535, "port");
    if (!last) return bad("'" + ports.substr(dash + 1) + "' is not a port 1..65535");
    m["port_range"] = json::array({*first, *last});
    return m;
}

}  // namespace dplb::dplbadm
