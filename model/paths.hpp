// Paths of members in error messages: "config.services[2].real_servers[0].port".
// Shared by the JSON codec and the validation rules, which name the member at fault.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dplb::model {

// "a.b" / "b" when the parent path is empty.
std::string member_path(const std::string& parent, std::string_view name);
// "a.b[3]".
std::string index_path(const std::string& parent, std::size_t index);

}  // namespace dplb::model
