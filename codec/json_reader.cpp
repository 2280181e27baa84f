#include "codec/json_reader.hpp"

namespace dplb::model {

using nlohmann::json;

Error type_error(const std::string& field, std::string_view expected, const json& got) {
    return Error{field, "expected " + std::string(expected) + ", got " + got.type_name()};
}

Status read_uint(const json& j, const std::string& field, uint64_t min, uint64_t max, uint64_t& out) {
    if (!j.is_number_integer()) return type_error(field, "an integer", j);
    auto range = [&] {
        return Error{field, "must be between " + std::to_string(min) + " and " + std::to_string(max)};
    };
    if (j.is_number_unsigned()) {
        auto v = j.get<uint64_t>();
        if (v < min || v > max) return range();
        out = v;
        return std::nullopt;
    }
    auto v = j.get<int64_t>();
    if (v < 0 || uint64_t(v) < min || uint64_t(v) > max) return range();
    out = uint64_t(v);
    return std::nullopt;
}

Status read_string(const json& j, const std::string& field, std::string& out) {
    if (!j.is_string()) return type_error(field, "a string", j);
    out = j.get<std::string>();
    return std::nullopt;
}

Status read_bool(const json& j, const std::string& field, bool& out) {
    if (!j.is_boolean()) return type_error(field, "a boolean", j);
    out = j.get<bool>();
    return std::nullopt;
}

ObjectReader::ObjectReader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) status_ = type_error(path_, "an object", j_);
}

const json* ObjectReader::get(std::string_view name) {
    if (status_) return nullptr;
    known_.emplace(name);
    auto it = j_.find(name);
    return it == j_.end() ? nullptr : &*it;
}

Status ObjectReader::required(std::string_view name, const json*& out) {
    if (status_) return status_;
    out = get(name);
    if (!out) return Error{field(name), "missing member '" + std::string(name) + "'"};
    return std::nullopt;
}

Status ObjectReader::required_string(std::string_view name, std::string& out) {
    const json* m = nullptr;
    if (auto e = required(name, m)) return e;
    return read_string(*m, field(name), out);
}

Status ObjectReader::optional_string(std::string_view name, std::string& out, bool* present) {
    if (status_) return status_;
    const json* m = get(name);
    if (present) *present = m != nullptr;
    if (!m) return std::nullopt;
    return read_string(*m, field(name), out);
}

Status ObjectReader::required_uint(std::string_view name, uint64_t min, uint64_t max, uint64_t& out) {
    const json* m = nullptr;
    if (auto e = required(name, m)) return e;
    return read_uint(*m, field(name), min, max, out);
}

Status ObjectReader::optional_uint(std::string_view name, uint64_t min, uint64_t max, uint64_t& out,
                                   bool* present) {
    if (status_) return status_;
    const json* m = get(name);
    if (present) *present = m != nullptr;
    if (!m) return std::nullopt;
    return read_uint(*m, field(name), min, max, out);
}

Status ObjectReader::optional_bool(std::string_view name, bool& out, bool* present) {
    if (status_) return status_;
    const json* m = get(name);
    if (present) *present = m != nullptr;
    if (!m) return std::nullopt;
    return read_bool(*m, field(name), out);
}

Status ObjectReader::finish() const {
    if (status_) return status_;
    for (const auto& [key, value] : j_.items()) {
        if (!known_.contains(key)) return Error{field(key), "unknown member '" + key + "'"};
    }
    return std::nullopt;
}

}  // namespace dplb::model
