// dplbadm --get-mark: port groups, one match per line, in ipvsadm's style of columns.
#include "tools/dplbadm/format.hpp"
#include "tools/dplbadm/reply_fields.hpp"
#include "tools/dplbadm/text.hpp"

namespace dplb::dplbadm {

using nlohmann::json;

model::Result<std::string> format_port_groups(const json& reply) {
    ReplyFields f;
    std::string out = printf_string("%-10s %s\n", "FWM", "Prot VirtualAddress:Port(s)");
    for (const json& g : f.array(reply, "port_groups")) {
        std::string mark = std::to_string(f.u64(g, "mark"));
        for (const json& m : f.array(g, "matches")) {
            std::string ports;
            if (f.has(m, "port_range")) {
                const json& r = f.array(m, "port_range");
                if (r.size() != 2 || !r[0].is_number_unsigned() || !r[1].is_number_unsigned())
                    return model::Error{"", "malformed reply from dplb-control: bad 'port_range'"};
                ports = std::to_string(r[0].get<uint64_t>()) + "-" + std::to_string(r[1].get<uint64_t>());
            } else {
                ports = std::to_string(f.u64(m, "port"));
            }
            std::string proto = f.str(m, "protocol") == "udp" ? "UDP" : "TCP";
            out += printf_string("%-10s %s  %s:%s\n", mark.c_str(), proto.c_str(), f.str(m, "address").c_str(),
                                 ports.c_str());
            mark.clear();  // the mark once per group
        }
    }
    if (f.error()) return *f.error();
    return out;
}

}  // namespace dplb::dplbadm
