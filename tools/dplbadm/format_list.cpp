// ipvsadm -L and its column variants (--stats, --rate, --thresholds, --persistent-conn), as
// ipvsadm.c's print_title / print_service_entry / print_largenum print them.
//
// The servers listed are those keepalived would leave in IPVS: the list reply marks each real
// server and the sorry server with `in_table` and the weight it has there, `table_weight`
// (model/scheduling_set.hpp); a removed real server is not listed, an inhibited one is at
// weight 0, an active sorry server is listed like a real server. A reply without these
// members lists every real server at its weight.
#include <algorithm>
#include <tuple>
#include <vector>

#include "dplb/config.hpp"
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/reply_fields.hpp"
#include "tools/dplbadm/text.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {

using ull = unsigned long long;

// ipvsadm's order (ipvs_cmp_services): address services by protocol number (tcp 6 before
// udp 17), address and port, then fwmark services by mark.
using SortKey = std::tuple<uint64_t, int, uint32_t, uint64_t>;

SortKey sort_key(ReplyFields& f, const json& s) {
    if (f.has(s, "fwmark")) return {f.u64(s, "fwmark"), 0, 0, 0};
    auto proto = config::parse_protocol(f.str(s, "protocol"));
    return {0, proto ? int(*proto) : 0, host_order(f.str(s, "address")), f.u64(s, "port")};
}

std::string forward_column(const std::string& forward) {
    auto f = config::parse_forward(forward);
    return f ? std::string(config::ipvsadm_name(*f)) : forward;
}

std::string title(const ListFormat& fmt) {
    const char* numbers = "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n";
    if (fmt.stats) return printf_string(numbers, "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
    if (fmt.rate) return printf_string(numbers, "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
    if (fmt.thresholds)
        return printf_string("%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                             "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
    if (fmt.persistent_conn)
        return printf_string("%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                             "Weight", "PersistConn", "ActiveConn", "InActConn");
    return "Prot LocalAddress:Port Scheduler Flags\n"
           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
}

void append_numbers(std::string& out, ReplyFields& f, const json& o, std::initializer_list<const char*> names, bool exact) {
    for (const char* name : names) out += largenum(f.u64(o, name), exact);
}

const std::initializer_list<const char*> counter_names{"conns", "inpkts", "outpkts", "inbytes", "outbytes"};
const std::initializer_list<const char*> rate_names{"cps", "inpps", "outpps", "inbps", "outbps"};

// "rr", then "(sh-fallback,sh-port)" for flags and "persistent 300 mask 255.255.255.0".
std::string service_flags(ReplyFields& f, const json& s) {
    std::string out = " " + f.str(s, "scheduler");
    if (f.has(s, "sched_flags") && !f.array(s, "sched_flags").empty()) {
        std::string flags;
        for (const json& flag : f.array(s, "sched_flags"))
            flags += (flags.empty() ? "" : ",") + (flag.is_string() ? flag.get<std::string>() : flag.dump());
        out += " (" + flags + ")";
    }
    if (f.has(s, "persistence")) {
        const json& p = f.object(s, "persistence");
        out += " persistent " + std::to_string(f.u64(p, "timeout"));
        std::string mask = f.str(p, "netmask");
        if (mask != "255.255.255.255") out += " mask " + mask;
    }
    return out;
}

std::string service_name(ReplyFields& f, const json& s) {
    if (f.has(s, "fwmark")) return "FWM  " + std::to_string(f.u64(s, "fwmark"));
    std::string proto = f.str(s, "protocol") == "udp" ? "UDP" : "TCP";
    return cut(proto + "  " + f.str(s, "address") + ":" + std::to_string(f.u64(s, "port")), 33);
}

void append_service(std::string& out, ReplyFields& f, const json& s, const ListFormat& fmt) {
    std::string name = service_name(f, s);
    if (fmt.stats || fmt.rate) {
        out += printf_string("%-33s", name.c_str());
        append_numbers(out, f, f.object(s, fmt.stats ? "stats" : "rates"), fmt.stats ? counter_names : rate_names,
                       fmt.exact);
        out += "\n";
    } else {
        out += name + service_flags(f, s) + "\n";
    }
}

// The weight the server has in the table.
uint64_t table_weight(ReplyFields& f, const json& r) {
    return ReplyFields::has(r, "table_weight") ? f.u64(r, "table_weight") : f.u64(r, "weight");
}

bool in_table(const json& r) {
    auto it = r.find("in_table");
    return it == r.end() || !it->is_boolean() || it->get<bool>();
}

void append_real(std::string& out, ReplyFields& f, const json& r, const ListFormat& fmt) {
    std::string dname = cut(f.str(r, "address") + ":" + std::to_string(f.u64(r, "port")), 28);
    const char* d = dname.c_str();
    if (fmt.stats) {
        out += printf_string("  -> %-28s", d);
        append_numbers(out, f, f.object(r, "stats"), counter_names, fmt.exact);
        out += "\n";
    } else if (fmt.rate) {
        const json& rt = f.object(r, "rates");
        out += printf_string("  -> %-28s %8llu %8llu %8llu", d, ull(f.u64(rt, "cps")), ull(f.u64(rt, "inpps")),
                             ull(f.u64(rt, "outpps")));
        append_numbers(out, f, rt, {"inbps", "outbps"}, fmt.exact);
        out += "\n";
    } else if (fmt.thresholds) {
        out += printf_string("  -> %-28s %-10llu %-10llu %-10llu %-10llu\n", d, ull(f.u64(r, "upper_threshold")),
                             ull(f.u64(r, "lower_threshold")), ull(f.u64(r, "active_conns")),
                             ull(f.u64(r, "inactive_conns")));
    } else if (fmt.persistent_conn) {
        out += printf_string("  -> %-28s %-9llu %-11llu %-10llu %-10llu\n", d, ull(table_weight(f, r)),
                             ull(f.u64(r, "persistent_conns")), ull(f.u64(r, "active_conns")),
                             ull(f.u64(r, "inactive_conns")));
    } else {
        out += printf_string("  -> %-28s %-7s %-6llu %-10llu %-10llu\n", d, forward_column(f.str(r, "forward")).c_str(),
                             ull(table_weight(f, r)), ull(f.u64(r, "active_conns")), ull(f.u64(r, "inactive_conns")));
    }
}

}  // namespace

std::string largenum(uint64_t i, bool exact) {
    if (exact) {
        std::string digits = std::to_string(i);
        int width = digits.size() <= 8 ? 9 : int(digits.size()) + 1;
        return printf_string("%*llu", width, ull(i));
    }
    if (i < 100000000ULL) return printf_string("%9llu", ull(i));
    if (i < 1000000000ULL) return printf_string("%8lluK", ull(i / 1000));
    if (i < 100000000000ULL) return printf_string("%8lluM", ull(i / 1000000));
    if (i < 100000000000000ULL) return printf_string("%8lluG", ull(i / 1000000000ULL));
    return printf_string("%8lluT", ull(i / 1000000000000ULL));
}

model::Result<std::string> format_list(const json& reply, const ListFormat& fmt) {
    ReplyFields f;
    std::string out;
    if (!fmt.one_service) out += "IP Virtual Server version 1.2.1 (size=4096)\n";
    out += title(fmt);

    std::vector<std::pair<SortKey, const json*>> services;
    for (const json& s : f.array(reply, "services")) services.push_back({sort_key(f, s), &s});
    if (fmt.sort)
        std::stable_sort(services.begin(), services.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

    for (const auto& [key, sp] : services) {
        const json& s = *sp;
        append_service(out, f, s, fmt);
        std::vector<std::pair<std::pair<uint32_t, uint64_t>, const json*>> reals;
        for (const json& r : f.array(s, "real_servers"))
            if (in_table(r)) reals.push_back({{host_order(f.str(r, "address")), f.u64(r, "port")}, &r});
        if (ReplyFields::has(s, "sorry_server")) {
            const json& sorry = f.object(s, "sorry_server");
            if (in_table(sorry)) reals.push_back({{host_order(f.str(sorry, "address")), f.u64(sorry, "port")}, &sorry});
        }
        if (fmt.sort)
            std::stable_sort(reals.begin(), reals.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [rkey, rp] : reals) append_real(out, f, *rp, fmt);
    }
    if (f.error()) return *f.error();
    return out;
}

}  // namespace dplb::dplbadm
