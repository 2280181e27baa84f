// Strict, non-throwing access to the members of one JSON object.
//
// Every request and state-file object is read through an ObjectReader so that wrong types,
// missing members and unknown (misspelt) members are reported the same way everywhere,
// with the member's full path ("service.real_servers[0].port"). Nothing here throws:
// types are checked before every get<>.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "model/paths.hpp"

namespace dplb::model {

// "expected a string, got number"; the JSON type names are nlohmann's.
Error type_error(const std::string& field, std::string_view expected, const nlohmann::json& got);

// Reads an integer in [min, max]; floats, booleans and strings are type errors.
Status read_uint(const nlohmann::json& j, const std::string& field, uint64_t min, uint64_t max,
                 uint64_t& out);
Status read_string(const nlohmann::json& j, const std::string& field, std::string& out);
Status read_bool(const nlohmann::json& j, const std::string& field, bool& out);

class ObjectReader {
public:
    ObjectReader(const nlohmann::json& j, std::string path);

    // Not an object: every other call is then a no-op that returns this error.
    const Status& status() const { return status_; }
    const std::string& path() const { return path_; }
    std::string field(std::string_view name) const { return member_path(path_, name); }

    // The member, or nullptr when absent; marks it as known either way.
    const nlohmann::json* get(std::string_view name);

    Status required(std::string_view name, const nlohmann::json*& out);
    Status required_string(std::string_view name, std::string& out);
    // Leaves `out` untouched when the member is absent; `present` (optional) says which.
    Status optional_string(std::string_view name, std::string& out, bool* present = nullptr);
    Status required_uint(std::string_view name, uint64_t min, uint64_t max, uint64_t& out);
    Status optional_uint(std::string_view name, uint64_t min, uint64_t max, uint64_t& out,
                         bool* present = nullptr);
    Status optional_bool(std::string_view name, bool& out, bool* present = nullptr);

    // The first member that no call above asked for, as an error. Call last.
    Status finish() const;

private:
    const nlohmann::json& j_;
    std::string path_;
    std::set<std::string, std::less<>> known_;
    Status status_;
};

}  // namespace dplb::model
