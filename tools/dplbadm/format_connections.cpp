// ipvsadm -L -c: "IPVS connection entries" as ipvsadm.c's list_conn / print_conn print them.
// FULLNAT entries add their local address in a last column (ipvsadm has none for it).
#include <cctype>

#include "model/connections.hpp"
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/text.hpp"
#include "codec/connections_json.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

namespace {

std::string upper(std::string s) {
    for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// The virtual column. IPVS shows a fwmark template's mark where the address would be, and
// so does dplb when the dataplane names no VIP:port.
std::string virtual_column(const model::ConnectionEntry& c) {
    if (c.virtual_) return model::to_string(*c.virtual_);
    return Ip4::from_host(c.fwmark).str() + ":0";
}

}  // namespace

model::Result<std::string> format_connections(const json& reply) {
    auto list = model::connections_reply_from_json(reply);
    if (!list) return model::Error{"", "malformed reply from dplb-control: " + list.error().str()};
    bool any_local = false;
    for (const auto& c : list->entries) any_local = any_local || c.local.has_value();
    std::string out = "IPVS connection entries\n";
    if (any_local)
        out += printf_string("pro expire %-11s %-18s %-18s %-18s %s\n", "state", "source", "virtual", "destination",
                             "local");
    else
        out += printf_string("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
    for (const auto& c : list->entries) {
        uint64_t seconds = c.expires_ms / 1000;
        std::string expire = printf_string("%02llu:%02llu", (unsigned long long)(seconds / 60),
                                           (unsigned long long)(seconds % 60));
        std::string line = printf_string("%-3s %-6s %-11s %-18s %-18s ", upper(c.protocol).c_str(), expire.c_str(),
                                         c.state.c_str(), model::to_string(c.client).c_str(),
                                         virtual_column(c).c_str());
        std::string dest = model::to_string(c.real);
        if (any_local)
            line += printf_string("%-18s %s", dest.c_str(), c.local ? model::to_string(*c.local).c_str() : "-");
        else
            line += dest;
        out += line + "\n";
    }
    return out;
}

}  // namespace dplb::dplbadm
