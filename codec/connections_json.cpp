#include <charconv>
#include <limits>

#include "codec/config_json.hpp"
#include "model/connections.hpp"
#include "codec/json_reader.hpp"
#include "codec/connections_json.hpp"

namespace dplb::model {

using nlohmann::json;

namespace {

Result<ConnectionEntry> entry_from_json(const json& j, const std::string& path) {
    ObjectReader r(j, path);
    ConnectionEntry c;
    if (auto e = r.required_string("protocol", c.protocol)) return *e;
    if (auto e = r.required_string("state", c.state)) return *e;
    if (auto e = r.optional_uint("expires_ms", 0, std::numeric_limits<uint64_t>::max(), c.expires_ms)) return *e;
    for (auto [name, out] : {std::pair{"client", &c.client}, std::pair{"real", &c.real}}) {
        const json* m = nullptr;
        if (auto e = r.required(name, m)) return *e;
        auto ep = endpoint_from_json(*m, r.field(name));
        if (!ep) return ep.error();
        *out = *ep;
    }
    for (auto [name, out] : {std::pair{"virtual", &c.virtual_}, std::pair{"local", &c.local}}) {
        if (const json* m = r.get(name)) {
            auto ep = endpoint_from_json(*m, r.field(name));
            if (!ep) return ep.error();
            *out = *ep;
        }
    }
    uint64_t mark = 0;
    if (auto e = r.optional_uint("fwmark", 0, 4294967295, mark)) return *e;
    c.fwmark = uint32_t(mark);
    if (!c.virtual_ && !c.fwmark) return Error{r.field("virtual"), "missing member 'virtual' (or 'fwmark')"};
    if (const json* f = r.get("forward")) {
        auto fwd = forward_from_json(*f, r.field("forward"));
        if (!fwd) return fwd.error();
        c.forward = *fwd;
    }
    if (const json* t = r.get("template")) {
        if (!t->is_boolean()) return type_error(r.field("template"), "a boolean", *t);
        c.is_template = t->get<bool>();
    }
    return c;
}

}  // namespace

std::string to_string(const Endpoint& e) { return describe(e.address, e.port); }

Result<Endpoint> endpoint_from_json(const json& j, const std::string& path) {
    std::string text;
    if (auto e = read_string(j, path, text)) return *e;
    auto colon = text.rfind(':');
    auto bad = [&] { return Error{path, "'" + text + "' is not ADDRESS:PORT"}; };
    if (colon == std::string::npos) return bad();
    auto a = Ip4::parse(std::string_view(text).substr(0, colon));
    unsigned port = 0;
    const char* begin = text.data() + colon + 1;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(begin, end, port);
    if (!a || begin == end || ec != std::errc{} || p != end || port > 65535) return bad();
    return Endpoint{*a, uint16_t(port)};
}

json to_json(const ConnectionEntry& c) {
    json j{{"protocol", c.protocol}, {"state", c.state}, {"expires_ms", c.expires_ms}, {"client", to_string(c.client)}};
    if (c.virtual_) j["virtual"] = to_string(*c.virtual_);
    if (c.fwmark) j["fwmark"] = c.fwmark;
    if (c.local) j["local"] = to_string(*c.local);
    j["real"] = to_string(c.real);
    j["forward"] = config::to_string(c.forward);
    j["template"] = c.is_template;
    return j;
}

json connections_reply_to_json(const ConnectionList& list) {
    json entries = json::array();
    for (const auto& c : list.entries) entries.push_back(to_json(c));
    return json{{"ok", true}, {"truncated", list.truncated}, {"connections", std::move(entries)}};
}

Result<ConnectionList> connections_reply_from_json(const json& j) {
    ObjectReader r(j, "");
    ConnectionList list;
    if (const json* t = r.get("truncated")) {
        if (!t->is_boolean()) return type_error("truncated", "a boolean", *t);
        list.truncated = t->get<bool>();
    }
    const json* entries = r.get("connections");
    if (!entries) return list;
    if (!entries->is_array()) return type_error("connections", "an array", *entries);
    list.entries.reserve(entries->size());
    for (std::size_t i = 0; i < entries->size(); ++i) {
        auto c = entry_from_json((*entries)[i], index_path("connections", i));
        if (!c) return c.error();
        list.entries.push_back(std::move(*c));
    }
    return list;
}

}  // namespace dplb::model
