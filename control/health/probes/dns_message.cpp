#include "control/health/probes/dns_message.hpp"

#include <strings.h>

#include <array>
#include <utility>

namespace dplb::health::probes {
namespace {

constexpr std::array<std::pair<const char*, uint16_t>, 9> types{{
    {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"RRSIG", 46}, {"DNSKEY", 48},
}};

const char* rcode_name(unsigned rcode) {
    static constexpr const char* names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                            "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
    return rcode < std::size(names) ? names[rcode] : "?";
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
}

}  // namespace

std::optional<uint16_t> dns_type_code(std::string_view name) {
    for (const auto& [label, code] : types)
        if (name.size() == std::char_traits<char>::length(label) &&
            ::strncasecmp(name.data(), label, name.size()) == 0)
            return code;
    return std::nullopt;
}

std::optional<std::vector<uint8_t>> dns_query(uint16_t id, std::string_view name, uint16_t type) {
    std::vector<uint8_t> q;
    put16(q, id);
    put16(q, 0x0100);  // flags: RD
    put16(q, 1);       // QDCOUNT
    put16(q, 0);
    put16(q, 0);
    put16(q, 0);
    if (name != ".") {
        if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "example.com."
        if (name.empty()) return std::nullopt;
        for (;;) {
            auto dot = name.find('.');
            std::string_view label = name.substr(0, dot);
            if (label.empty() || label.size() > 63) return std::nullopt;
            q.push_back(uint8_t(label.size()));
            q.insert(q.end(), label.begin(), label.end());
            if (dot == std::string_view::npos) break;
            name.remove_prefix(dot + 1);
        }
    }
    q.push_back(0);  // the root
    put16(q, type);
    put16(q, 1);  // IN
    return q;
}

DnsVerdict judge_dns_answer(const uint8_t* answer, std::size_t size, uint16_t id, std::string& reason) {
    if (size < 12) return DnsVerdict::ignore;
    if ((uint16_t(answer[0] << 8 | answer[1])) != id) return DnsVerdict::ignore;
    if (!(answer[2] & 0x80)) return DnsVerdict::ignore;  // QR clear: a query, not our answer
    unsigned rcode = answer[3] & 0x0f;
    if (rcode != 0) {
        reason = "DNS rcode " + std::to_string(rcode) + " (" + rcode_name(rcode) + ")";
        return DnsVerdict::down;
    }
    return DnsVerdict::up;
}

}  // namespace dplb::health::probes
