// Typed, non-throwing reads of the members of a reply from dplb-control. The first problem
// is remembered and every later read returns a default, so a formatter can read everything
// it needs and check once at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dplb::dplbadm {

class ReplyFields {
public:
    // Whether `j` is an object with member `name` (for optional members; never an error).
    static bool has(const nlohmann::json& j, const char* name) { return j.is_object() && j.contains(name); }
    std::string str(const nlohmann::json& j, const char* name);
    uint64_t u64(const nlohmann::json& j, const char* name);
    // The member if it is an array (else an empty array and an error).
    const nlohmann::json& array(const nlohmann::json& j, const char* name);
    const nlohmann::json& object(const nlohmann::json& j, const char* name);

    const model::Status& error() const { return error_; }

private:
    const nlohmann::json* member(const nlohmann::json& j, const char* name);
    void fail(std::string what);

    model::Status error_;
};

}  // namespace dplb::dplbadm
