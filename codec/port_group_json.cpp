// Codec of port groups (docs/api.md "Port group"): the (protocol, address, ports) matches
// that a firewall mark stands for.
#include "codec/config_json.hpp"
#include "codec/json_array.hpp"
#include "codec/json_reader.hpp"

namespace dplb::model {

using nlohmann::json;
namespace cfg = dplb::config;

Result<cfg::PortMatch> port_match_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::PortMatch m;
    std::string proto;
    if (auto e = r.required_string("protocol", proto)) return *e;
    auto p = cfg::parse_protocol(proto);
    if (!p) return Error{r.field("protocol"), "unknown protocol '" + proto + "' (expected tcp or udp)"};
    m.protocol = *p;
    const json* addr = nullptr;
    if (auto e = r.required("address", addr)) return *e;
    auto a = address_from_json(*addr, r.field("address"));
    if (!a) return a.error();
    m.address = *a;
    const json* port = r.get("port");
    const json* range = r.get("port_range");
    if (port && range) return Error{r.field("port_range"), "give either port or port_range, not both"};
    if (!port && !range) return Error{r.field("port"), "missing member 'port' (or 'port_range')"};
    // Ports decode as 0..65535 so that validation reports 0 the same way for code-built configs.
    if (port) {
        uint64_t v = 0;
        if (auto e = read_uint(*port, r.field("port"), 0, 65535, v)) return *e;
        m.first_port = m.last_port = uint16_t(v);
    } else {
        std::string field = r.field("port_range");
        if (!range->is_array() || range->size() != 2)
            return Error{field, "expected an array [first, last]"};
        uint64_t first = 0, last = 0;
        if (auto e = read_uint((*range)[0], index_path(field, 0), 0, 65535, first)) return *e;
        if (auto e = read_uint((*range)[1], index_path(field, 1), 0, 65535, last)) return *e;
        m.first_port = uint16_t(first);
        m.last_port = uint16_t(last);
    }
    if (auto e = r.finish()) return *e;
    return m;
}

Result<cfg::PortGroup> port_group_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    cfg::PortGroup g;
    uint64_t mark = 0;
    if (auto e = r.required_uint("mark", 1, 4294967295, mark)) return *e;
    g.mark = uint32_t(mark);
    const json* matches = nullptr;
    if (auto e = r.required("matches", matches)) return *e;
    if (auto e = read_array<cfg::PortMatch>(r, "matches", g.matches, port_match_from_json)) return *e;
    if (auto e = r.finish()) return *e;
    return g;
}

json to_json(const cfg::PortMatch& m) {
    json j{{"protocol", cfg::to_string(m.protocol)}, {"address", m.address.str()}};
    if (m.first_port == m.last_port) j["port"] = m.first_port;
    else j["port_range"] = json::array({m.first_port, m.last_port});
    return j;
}

json to_json(const cfg::PortGroup& g) {
    json matches = json::array();
    for (const auto& m : g.matches) matches.push_back(to_json(m));
    return json{{"mark", g.mark}, {"matches", std::move(matches)}};
}


}  // namespace dplb::model
