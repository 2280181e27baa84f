// Parsing JSON text without exceptions, with a message that says what is wrong and where
// (nlohmann's non-throwing parse only says "discarded").
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dplb::model {

// The parsed value, or Error{"", "not valid JSON: <parser message>"}.
Result<nlohmann::json> parse_json(std::string_view text);

// Compact one-line form for the sockets. Invalid UTF-8 (impossible for parsed input, but a
// reply may quote any text) is replaced instead of throwing.
std::string dump_line(const nlohmann::json& j);

}  // namespace dplb::model
