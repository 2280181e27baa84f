// DPVS's ipvsadm --get-laddr table (list_laddrs_print_title / _service / _laddr).
#include <cstdio>

#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/reply_fields.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {

std::string line(const char* fmt, const std::string& a, const std::string& b, const std::string& c) {
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, fmt, a.c_str(), b.c_str(), c.c_str());
    return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(std::size_t(n), sizeof buf - 1));
}

}  // namespace

model::Result<std::string> format_laddrs(const json& reply) {
    ReplyFields f;
    // DPVS's columns are "%-20s %-8s %-20s %-10s %-10s" with CONFLICTS and CONNS last.
    std::string out = line("%-20s %-8s %s\n", "VIP:VPORT", "TOTAL", "SNAT_IP");
    for (const json& s : f.array(reply, "services")) {
        const json& laddrs = f.array(s, "local_addresses");
        std::string vip = f.str(s, "address") + ":" + std::to_string(f.u64(s, "port"));
        out += line("%-20s %-8s %s\n", vip, std::to_string(laddrs.size()), "");
        for (const json& a : laddrs) {
            if (!a.is_string()) return model::Error{"", "malformed reply from dplb-control: a local address is not a string"};
            out += line("%-20s %-8s %s\n", "", "", a.get<std::string>());
        }
    }
    if (f.error()) return *f.error();
    return out;
}

}  // namespace dplb::dplbadm
