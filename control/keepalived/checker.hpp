// The *_CHECK blocks of a real_server: TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK,
// PING_CHECK, DNS_CHECK, SMTP_CHECK, with keepalived's defaults for what they leave out.
// A keyword another checker type takes is "unknown" here, as in keepalived.
//
// Threading: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "common/result.hpp"
#include "control/keepalived/keepalived_config.hpp"
#include "control/keepalived/statement.hpp"

namespace dplb::keepalived {

// nullopt: not a checker keyword.
std::optional<CheckerType> checker_type(std::string_view keyword);

// `s` is a checker statement (checker_type(s.name()) is set); `vs_delay_loop` is its virtual
// server's delay_loop, DNS_CHECK's default delay_before_retry when it sets no delay_loop.
model::Result<CheckerSpec> parse_checker(const Statement& s, double vs_delay_loop);

}  // namespace dplb::keepalived
