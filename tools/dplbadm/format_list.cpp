// ipvsadm -L, as ipvsadm.c prints it.
#include <algorithm>
#include <cstdio>
#include <tuple>
#include <vector>

#include "dplb/config.hpp"
#include "dplb/ip4.hpp"
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/reply_fields.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {

template <class... A>
std::string printf_string(const char* fmt, A... args) {
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, fmt, args...);
    return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(std::size_t(n), sizeof buf - 1));
}

// Sort key: numeric protocol (tcp 6 before udp 17), address in host order, port.
using SortKey = std::tuple<int, uint32_t, uint64_t>;

uint32_t host_order(const std::string& address) {
    auto a = Ip4::parse(address);
    return a ? a->host() : 0;
}

std::string forward_column(const std::string& forward) {
    auto f = config::parse_forward(forward);
    return f ? std::string(config::ipvsadm_name(*f)) : forward;
}

void append_counters(std::string& out, ReplyFields& f, const json& stats, bool exact) {
    for (const char* name : {"conns", "inpkts", "outpkts", "inbytes", "outbytes"})
        out += largenum(f.u64(stats, name), exact);
}

}  // namespace

std::string largenum(uint64_t i, bool exact) {
    using ull = unsigned long long;
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
    if (fmt.stats)
        out += printf_string("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                             "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
    else
        out += "Prot LocalAddress:Port Scheduler Flags\n"
               "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";

    std::vector<std::pair<SortKey, const json*>> services;
    for (const json& s : f.array(reply, "services")) {
        auto proto = config::parse_protocol(f.str(s, "protocol"));
        services.push_back({{proto ? int(*proto) : 0, host_order(f.str(s, "address")), f.u64(s, "port")}, &s});
    }
    std::stable_sort(services.begin(), services.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });

    for (const auto& [key, sp] : services) {
        const json& s = *sp;
        std::string proto = f.str(s, "protocol") == "udp" ? "UDP" : "TCP";
        std::string name = proto + "  " + f.str(s, "address") + ":" + std::to_string(f.u64(s, "port"));
        name.resize(std::min<std::size_t>(name.size(), 33));  // ipvsadm cuts svc_name at 33
        if (fmt.stats) {
            out += printf_string("%-33s", name.c_str());
            append_counters(out, f, f.object(s, "stats"), fmt.exact);
            out += "\n";
        } else {
            out += name + " " + f.str(s, "scheduler") + "\n";
        }
        std::vector<std::pair<std::pair<uint32_t, uint64_t>, const json*>> reals;
        for (const json& r : f.array(s, "real_servers"))
            reals.push_back({{host_order(f.str(r, "address")), f.u64(r, "port")}, &r});
        std::stable_sort(reals.begin(), reals.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [rkey, rp] : reals) {
            const json& r = *rp;
            std::string dname = f.str(r, "address") + ":" + std::to_string(f.u64(r, "port"));
            dname.resize(std::min<std::size_t>(dname.size(), 28));  // and dname at 28
            if (fmt.stats) {
                out += printf_string("  -> %-28s", dname.c_str());
                append_counters(out, f, f.object(r, "stats"), fmt.exact);
                out += "\n";
            } else {
                out += printf_string("  -> %-28s %-7s %-6llu %-10llu %-10llu\n", dname.c_str(),
                                     forward_column(f.str(r, "forward")).c_str(),
                                     (unsigned long long)f.u64(r, "weight"),
                                     (unsigned long long)f.u64(r, "active_conns"),
                                     (unsigned long long)f.u64(r, "inactive_conns"));
            }
        }
    }
    if (f.error()) return *f.error();
    return out;
}

model::Result<std::string> format_timeouts(const json& reply) {
    ReplyFields f;
    const json& t = f.object(f.object(reply, "config"), "timeouts");
    std::string out = "Timeout (tcp tcpfin udp): " + std::to_string(f.u64(t, "tcp")) + " " +
                      std::to_string(f.u64(t, "tcp_fin")) + " " + std::to_string(f.u64(t, "udp")) + "\n";
    if (f.error()) return *f.error();
    return out;
}

}  // namespace dplb::dplbadm
