// DNS_CHECK's query and its judgement of an answer, as keepalived 2.2.7's check_dns.c:
//
//   query:  random id, RD set, one question `name` of `type`, class IN; the name "." is
//           the root (a single zero byte); types A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY,
//           case-insensitive; an unknown type is SOA (keepalived ignores it with a
//           configuration error and keeps its default, SOA).
//   answer: a datagram shorter than a header, with another id, or that is not a response
//           (QR clear) is ignored and the probe keeps waiting; a response with RCODE != 0 is
//           down; any other response is up, whatever its sections hold (no answer count
//           check, TC ignored).
//
// Threading: plain functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dplb::health::probes {

// The type's code; nullopt when keepalived does not know it.
std::optional<uint16_t> dns_type_code(std::string_view name);

// nullopt when a label is empty or longer than 63 bytes ("a..b", ".a").
std::optional<std::vector<uint8_t>> dns_query(uint16_t id, std::string_view name, uint16_t type);

enum class DnsVerdict : uint8_t { ignore, up, down };

// `reason` is set for down: "DNS rcode 3 (NXDOMAIN)".
DnsVerdict judge_dns_answer(const uint8_t* answer, std::size_t size, uint16_t id, std::string& reason);

}  // namespace dplb::health::probes
