// The values keepalived's keywords take, read from a statement's arguments; every failure is
// an Error "file:line: keyword: what".
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "control/keepalived/statement.hpp"
#include "dplb/ip4.hpp"

namespace dplb::keepalived {

// Exactly `n` arguments.
model::Status want_args(const Statement&, std::size_t n);
// An unsigned integer in [min, max].
model::Result<uint32_t> integer_arg(const Statement&, std::size_t index, uint32_t min, uint32_t max);
// Seconds, fractions allowed ("2.5"), in [0, max].
model::Result<double> seconds_arg(const Statement&, std::size_t index, double max = 2000000);
model::Result<Ip4> address_arg(const Statement&, std::size_t index);
model::Result<uint16_t> port_arg(const Statement&, std::size_t index);  // 1..65535 (0 for "any")
// The rest of the line from `index`, words joined by one blank: a script with its arguments.
model::Result<std::string> rest_arg(const Statement&, std::size_t index);
// No arguments and no block: a flag keyword.
model::Status flag(const Statement&);

}  // namespace dplb::keepalived
